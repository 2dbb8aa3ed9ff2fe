"""The content API: live content for anyone, drafts for editors, all in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from drf_spectacular.validation import validate_schema
from knox.models import AuthToken
from rest_framework.test import APIClient

from content.models import Article, Status, Video
from content.revisions import revisions_for
from inbound.models import AuditEntry
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory
from tests.content.test_public_pages import PNG

pytestmark = pytest.mark.django_db

SITE = "https://participa.villaclara.example"
ARTICLES = "/api/v1/content/articles/"
STAFF = "/api/v1/content/staff/articles/"


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def es(message: Any) -> str:
    """The message as the API answers it: the API speaks the default language, Spanish."""
    with translation.override("es"):
        return str(translation.gettext(str(message)))


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row.get("title") or row.get("question") for row in response.json()["results"]]


# --- Public: articles -------------------------------------------------------------------------


def test_the_public_list_shows_only_live_articles_written_in_the_language_asked_for() -> None:
    ArticleFactory(**live(title_es="Solo en castellano"))
    ArticleFactory(**live(title_es="Bilingüe", title_en="Bilingual", slug_en="bilingual"))
    ArticleFactory(title_es="Borrador", title_en="Draft", slug_en="draft")
    ArticleFactory(status=Status.IN_REVIEW, title_es="En revisión")
    ArticleFactory(
        status=Status.PUBLISHED,
        publish_at=timezone.now() + dt.timedelta(days=1),
        title_es="Programado",
        title_en="Scheduled",
        slug_en="scheduled",
    )

    assert sorted(titles(api().get(ARTICLES))) == ["Bilingüe", "Solo en castellano"]
    assert titles(api().get(ARTICLES, {"lang": "en"})) == ["Bilingual"]
    assert titles(api().get(ARTICLES, {"lang": "gl"})) == []


def test_an_article_reads_as_its_public_page_shows_it() -> None:
    public, hidden = TopicFactory(slug="movilidad", name="Movilidad"), TopicFactory(is_public=False)
    article = ArticleFactory(
        **live(byline="Ana Pérez"),
        title_en="New bus lane",
        slug_en="new-bus-lane",
        body_en="<p>The lane opens on Monday.</p>",
        focus_keyword_es="carril bus",
        hero_image=SimpleUploadedFile("bus.png", PNG, content_type="image/png"),
        hero_image_alt_es="Un autobús eléctrico en la plaza",
    )
    article.topics.add(public, hidden)

    response = api().get(f"{ARTICLES}{article.slug_es}/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    body = response.json()
    assert body["title"] == article.title_es
    assert body["body"] == "<p>La biblioteca abrirá de 8:00 a 22:00 durante los exámenes.</p>"
    assert body["url"] == f"{SITE}/es/noticias/{article.slug_es}/"
    assert body["topics"] == [{"slug": "movilidad", "name": "Movilidad"}]
    assert body["byline"] == "Ana Pérez"
    assert body["language"] == "es"
    assert body["reading_minutes"] == 1
    assert body["hero_image"]["url"].startswith(f"{SITE}/media/content/articles/")
    assert body["hero_image"]["alt"] == "Un autobús eléctrico en la plaza"
    assert body["translations"] == [
        {"language": "es", "url": f"{SITE}/es/noticias/{article.slug_es}/"},
        {"language": "en", "url": f"{SITE}/en/news/new-bus-lane/"},
    ]
    assert "focus_keyword" not in body
    assert "status" not in body


def test_an_article_is_found_by_its_slug_in_the_language_asked_for() -> None:
    article = ArticleFactory(**live(), title_en="Library hours", slug_en="library-hours")

    english = api().get(f"{ARTICLES}library-hours/", {"lang": "en"})
    assert english.status_code == 200
    assert english.json()["title"] == "Library hours"
    assert english.json()["url"] == f"{SITE}/en/news/library-hours/"
    assert api().get(f"{ARTICLES}{article.slug_es}/", {"lang": "en"}).status_code == 404
    assert api().get(f"{ARTICLES}library-hours/").status_code == 404
    assert api().get(f"{ARTICLES}no-such-article/").status_code == 404


def test_drafts_in_review_and_scheduled_articles_are_not_found() -> None:
    draft = ArticleFactory()
    in_review = ArticleFactory(status=Status.IN_REVIEW)
    scheduled = ArticleFactory(
        status=Status.PUBLISHED, publish_at=timezone.now() + dt.timedelta(days=1)
    )
    for article in (draft, in_review, scheduled):
        assert api().get(f"{ARTICLES}{article.slug_es}/").status_code == 404


def test_an_unknown_language_is_refused_with_a_clear_message() -> None:
    response = api().get(ARTICLES, {"lang": "fr"})
    assert response.status_code == 400
    assert response.json() == {
        "lang": [
            es("Unknown language: use one of %(languages)s.") % {"languages": "es, ca, eu, gl, en"}
        ]
    }


def test_content_in_a_language_the_site_is_not_served_in_has_no_address() -> None:
    ArticleFactory(**live(), title_ca="Horari de la biblioteca", slug_ca="horari-biblioteca")

    [row] = api().get(ARTICLES, {"lang": "ca"}).json()["results"]

    assert row["title"] == "Horari de la biblioteca"
    assert row["url"] is None
    assert {"language": "ca", "url": None} in row["translations"]


def test_articles_are_filtered_by_public_topic() -> None:
    topic = TopicFactory(slug="cultura")
    ArticleFactory(**live(title_es="Concierto")).topics.add(topic)
    ArticleFactory(**live(title_es="Obras"))

    assert titles(api().get(ARTICLES, {"topic": "cultura"})) == ["Concierto"]
    response = api().get(ARTICLES, {"topic": "no-such-topic"})
    assert response.status_code == 400
    assert "topic" in response.json()


def test_the_public_list_runs_a_bounded_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(12):
        ArticleFactory(**live()).topics.add(TopicFactory(), TopicFactory())
    with django_assert_max_num_queries(3):  # count, page, topics
        assert len(titles(api().get(ARTICLES))) == 12


def test_an_unchanged_list_answers_304_to_a_conditional_get() -> None:
    ArticleFactory(**live())
    first = api().get(ARTICLES)
    again = api().get(ARTICLES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_public_endpoints_are_rate_limited_per_client(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"content_public": "2/min"},
    }
    client = api()
    assert client.get(ARTICLES).status_code == 200
    assert client.get(f"{ARTICLES}no-such-article/").status_code == 404
    refused = client.get(ARTICLES)
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert "public" not in refused.get("Cache-Control", "")
    assert api().get(ARTICLES, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_a_forged_forwarded_address_does_not_escape_the_limit(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"content_public": "1/min"},
    }
    assert api().get(ARTICLES, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert api().get(ARTICLES, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429


# --- Public: pages, FAQs, videos --------------------------------------------------------------


def test_pages_are_listed_where_they_and_their_parents_are_live_in_the_language() -> None:
    services = PageFactory(**live(), title_es="Servicios", slug_es="servicios")
    PageFactory(**live(), parent=services, title_es="Padrón", slug_es="padron", order=1)
    hidden_parent = PageFactory(title_es="Borrador", slug_es="borrador")
    PageFactory(**live(), parent=hidden_parent, title_es="Huérfana", slug_es="huerfana")

    rows = api().get("/api/v1/content/pages/").json()["results"]

    assert [(row["title"], row["path"]) for row in rows] == [
        ("Servicios", "servicios"),
        ("Padrón", "servicios/padron"),
    ]
    detail = api().get("/api/v1/content/pages/padron/").json()
    assert detail["url"] == f"{SITE}/es/paginas/servicios/padron/"
    assert detail["parent"] == services.pk
    assert api().get("/api/v1/content/pages/huerfana/").status_code == 404


def test_faqs_list_live_questions_of_public_topics_by_topic() -> None:
    tax, hidden = TopicFactory(slug="impuestos"), TopicFactory(slug="interno", is_public=False)
    FAQFactory(**live(), topic=tax, question_es="¿Cuándo se paga el IBI?")
    FAQFactory(**live(), question_es="¿Cómo me empadrono?")
    FAQFactory(**live(), topic=hidden, question_es="¿Pregunta interna?")
    FAQFactory(topic=tax, question_es="¿Borrador?")

    assert sorted(titles(api().get("/api/v1/content/faqs/"))) == [
        "¿Cuándo se paga el IBI?",
        "¿Cómo me empadrono?",
    ]
    [row] = api().get("/api/v1/content/faqs/", {"topic": "impuestos"}).json()["results"]
    assert row["question"] == "¿Cuándo se paga el IBI?"
    assert row["answer"] == "<p>Pide cita previa en la Oficina de Atención Ciudadana.</p>"
    assert row["url"] == f"{SITE}/es/preguntas-frecuentes/"


def test_a_video_reads_with_its_privacy_enhanced_player_and_transcript() -> None:
    video = VideoFactory(**live())
    video.topics.add(TopicFactory(slug="residuos", name="Residuos"))
    VideoFactory(title_es="Borrador")

    [row] = api().get("/api/v1/content/videos/").json()["results"]

    assert row["title"] == video.title_es
    assert row["provider"] == Video.Provider.YOUTUBE_NOCOOKIE
    assert row["embed_url"] == "https://www.youtube-nocookie.com/embed/abc123"
    assert row["video_file"] is None
    assert row["transcript"].startswith("Hola. Hoy explicamos")
    assert row["topics"] == [{"slug": "residuos", "name": "Residuos"}]
    assert api().get(f"/api/v1/content/videos/{video.slug_es}/").status_code == 200


# --- Staff: who may use it --------------------------------------------------------------------


def draft_payload(**fields: Any) -> dict[str, Any]:
    return {
        "title_es": "Nueva línea de autobús",
        "slug_es": "nueva-linea-autobus",
        "summary_es": "La línea 7 conecta el hospital con la estación.",
        "body_es": "<p>Empieza el lunes.</p>",
        **fields,
    }


def test_anonymous_callers_cannot_use_the_staff_api() -> None:
    ArticleFactory()
    assert api().get(STAFF).status_code in {401, 403}
    assert api().post(STAFF, draft_payload(), format="json").status_code in {401, 403}
    assert not Article.objects.filter(slug_es="nueva-linea-autobus").exists()


def test_staff_without_the_editor_role_cannot_use_the_staff_api(
    analyst: Any, marketer: Any
) -> None:
    article = ArticleFactory()
    for user in (analyst, marketer):
        assert api(user).get(STAFF).status_code == 403
        assert api(user).post(STAFF, draft_payload(), format="json").status_code == 403
        assert (
            api(user).patch(f"{STAFF}{article.pk}/", {"title_es": "X"}, format="json").status_code
            == 403
        )
    assert not Article.objects.filter(slug_es="nueva-linea-autobus").exists()
    article.refresh_from_db()
    assert article.title_es != "X"


def test_an_administrator_may_write_drafts_too(admin_user: Any) -> None:
    response = api(admin_user).post(STAFF, draft_payload(), format="json")
    assert response.status_code == 201
    assert Article.objects.get(slug_es="nueva-linea-autobus").status == Status.DRAFT


def test_editor_lists_articles_in_every_status_with_a_token(editor: Any) -> None:
    ArticleFactory(title_es="Borrador")
    ArticleFactory(status=Status.IN_REVIEW, title_es="En revisión")
    ArticleFactory(**live(title_es="Publicado"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=editor)[1]}")

    rows = client.get(STAFF).json()["results"]

    assert sorted((row["title_es"], row["status"]) for row in rows) == [
        ("Borrador", "draft"),
        ("En revisión", "in_review"),
        ("Publicado", "published"),
    ]
    assert [
        row["title_es"] for row in client.get(STAFF, {"status": "draft"}).json()["results"]
    ] == ["Borrador"]
    assert client.get(STAFF, {"status": "archived"}).status_code == 400


# --- Staff: writing drafts --------------------------------------------------------------------


def test_editor_creates_a_draft_with_a_sanitised_body_a_revision_and_an_audit_entry(
    editor: Any,
) -> None:
    TopicFactory(slug="movilidad")
    response = api(editor).post(
        STAFF,
        draft_payload(
            body_es='<p onclick="robar()">Empieza el lunes.</p><script>alert(1)</script>',
            title_en="New bus line",
            slug_en="new-bus-line",
            topics=["movilidad"],
            byline="Prensa municipal",
            meta_description_es="La nueva línea 7.",
            focus_keyword_es="línea 7",
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    article = Article.objects.get(slug_es="nueva-linea-autobus")
    assert response.json()["id"] == article.pk
    assert response.json()["status"] == "draft"
    assert article.status == Status.DRAFT
    assert article.body_es == "<p>Empieza el lunes.</p>"
    assert article.title_en == "New bus line"
    assert article.focus_keyword_es == "línea 7"
    assert [topic.slug for topic in article.topics.all()] == ["movilidad"]
    [revision] = revisions_for(article)
    assert revision.author == editor
    assert revision.snapshot["body_es"] == "<p>Empieza el lunes.</p>"
    entry = AuditEntry.objects.get(action="content_create")
    assert (entry.actor, entry.object_id) == (editor, str(article.pk))
    assert entry.detail["via"] == "api"
    assert api().get(f"{ARTICLES}nueva-linea-autobus/").status_code == 404


def test_a_draft_can_be_sent_for_review_when_it_is_created(editor: Any) -> None:
    response = api(editor).post(STAFF, draft_payload(status="in_review"), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "in_review"
    article = Article.objects.get(slug_es="nueva-linea-autobus")
    assert article.status == Status.IN_REVIEW
    assert AuditEntry.objects.filter(
        action="content_submit_for_review", object_id=str(article.pk)
    ).exists()


def test_a_duplicate_slug_is_refused_with_the_models_message(editor: Any) -> None:
    ArticleFactory(slug_es="nueva-linea-autobus", slug_en="taken")
    message = es("An article with this slug already exists in this language.")

    response = api(editor).post(STAFF, draft_payload(), format="json")
    assert response.status_code == 400
    assert response.json() == {"slug_es": [message]}

    response = api(editor).post(
        STAFF, draft_payload(slug_es="otra", title_en="Other", slug_en="taken"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"slug_en": [message]}
    assert Article.objects.count() == 1
    assert not AuditEntry.objects.filter(action="content_create").exists()


def test_publishing_through_the_api_is_refused(editor: Any) -> None:
    message = es(
        "The status can only be draft or in_review: articles are published in the admin, "
        "by someone who may publish."
    )
    response = api(editor).post(STAFF, draft_payload(status="published"), format="json")
    assert response.status_code == 400
    assert response.json() == {"status": [message]}
    assert not Article.objects.exists()

    article = ArticleFactory()
    response = api(editor).patch(f"{STAFF}{article.pk}/", {"status": "published"}, format="json")
    assert response.status_code == 400
    article.refresh_from_db()
    assert article.status == Status.DRAFT
    assert article.published_at is None


def test_a_draft_without_a_spanish_title_or_with_a_bad_slug_is_refused(editor: Any) -> None:
    response = api(editor).post(STAFF, draft_payload(title_es=""), format="json")
    assert response.status_code == 400
    assert "title_es" in response.json()
    response = api(editor).post(STAFF, draft_payload(slug_es="no vale"), format="json")
    assert response.status_code == 400
    assert "slug_es" in response.json()
    response = api(editor).post(STAFF, draft_payload(topics=["no-such-topic"]), format="json")
    assert response.status_code == 400
    assert "topics" in response.json()
    assert not Article.objects.exists()


def test_editor_updates_a_draft_and_sends_it_for_review(editor: Any) -> None:
    article = ArticleFactory()
    TopicFactory(slug="cultura")

    response = api(editor).patch(
        f"{STAFF}{article.pk}/",
        {
            "title_en": "Library hours",
            "slug_en": "library-hours",
            "topics": ["cultura"],
            "status": "in_review",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"
    article.refresh_from_db()
    assert (article.title_en, article.slug_en, article.status) == (
        "Library hours",
        "library-hours",
        Status.IN_REVIEW,
    )
    assert [topic.slug for topic in article.topics.all()] == ["cultura"]
    assert revisions_for(article).get().snapshot["title_en"] == "Library hours"
    update = AuditEntry.objects.get(action="content_update")
    assert update.detail["fields"] == ["slug_en", "title_en", "topics"]
    assert AuditEntry.objects.filter(action="content_submit_for_review").exists()


def test_an_article_in_review_can_go_back_to_draft(editor: Any) -> None:
    article = ArticleFactory(status=Status.IN_REVIEW)
    response = api(editor).patch(f"{STAFF}{article.pk}/", {"status": "draft"}, format="json")
    assert response.status_code == 200
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_an_update_to_a_slug_taken_in_that_language_is_refused(editor: Any) -> None:
    ArticleFactory(slug_es="ocupado")
    article = ArticleFactory(slug_es="libre")
    response = api(editor).patch(f"{STAFF}{article.pk}/", {"slug_es": "ocupado"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "slug_es": [es("An article with this slug already exists in this language.")]
    }
    article.refresh_from_db()
    assert article.slug_es == "libre"
    assert not revisions_for(article).exists()


@pytest.mark.parametrize("scheduled", [False, True])
def test_a_published_article_cannot_be_changed_through_the_api(
    editor: Any, scheduled: bool
) -> None:
    fields = (
        {"status": Status.PUBLISHED, "publish_at": timezone.now() + dt.timedelta(days=1)}
        if scheduled
        else live()
    )
    article = ArticleFactory(**fields, title_es="Publicado")

    response = api(editor).patch(f"{STAFF}{article.pk}/", {"title_es": "Cambiado"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": es("Published articles are changed in the admin."),
        "code": "published",
    }
    article.refresh_from_db()
    assert article.title_es == "Publicado"
    assert not revisions_for(article).exists()
    assert not AuditEntry.objects.filter(action="content_update").exists()


def test_articles_are_neither_replaced_nor_deleted_through_the_api(editor: Any) -> None:
    article = ArticleFactory()
    assert (
        api(editor).put(f"{STAFF}{article.pk}/", draft_payload(), format="json").status_code == 405
    )
    assert api(editor).delete(f"{STAFF}{article.pk}/").status_code == 405
    assert Article.objects.filter(pk=article.pk).exists()


# --- OpenAPI ----------------------------------------------------------------------------------


def test_the_content_api_is_in_the_openapi_schema_which_validates(client: Any) -> None:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = schema["paths"]
    public = [
        "/api/v1/content/articles/",
        "/api/v1/content/articles/{slug}/",
        "/api/v1/content/pages/",
        "/api/v1/content/pages/{slug}/",
        "/api/v1/content/faqs/",
        "/api/v1/content/videos/",
        "/api/v1/content/videos/{slug}/",
    ]
    for path in public:
        assert paths[path]["get"]["tags"] == ["content (public)"], path
        assert "lang" in {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
    assert set(paths["/api/v1/content/staff/articles/"]) == {"get", "post"}
    assert set(paths["/api/v1/content/staff/articles/{id}/"]) == {"get", "patch"}
    assert paths["/api/v1/content/staff/articles/"]["post"]["tags"] == ["content (staff)"]
    assert "409" in paths["/api/v1/content/staff/articles/{id}/"]["patch"]["responses"]
    assert "focus_keyword_es" not in str(schema["components"]["schemas"]["ArticlePublic"])
