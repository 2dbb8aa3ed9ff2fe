"""The SEO checklist: each check passing and failing, and the panel beside the article form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from content.models import Status
from content.seo import Check, article_checklist, checklist_score
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, PageFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

GOOD_BODY = (
    "<p>El carril bici une la estación con el polideportivo. Es seguro y cómodo.</p>"
    "<h2>El trazado</h2><p>Mide dos kilómetros. Tiene semáforos propios.</p>"
    "<h3>Los cruces</h3><p>Hay cuatro cruces con luz.</p>"
    '<p>Lee la <a href="/es/paginas/guia-movilidad/">guía de movilidad</a>.</p>'
)


def _live() -> dict[str, Any]:
    return {"status": Status.PUBLISHED, "published_at": timezone.now() - dt.timedelta(hours=1)}


@pytest.fixture
def mobility() -> Any:
    """A topic whose pillar page is live in Spanish and English."""
    topic = TopicFactory(slug="movilidad", name="Movilidad")
    PageFactory(
        **_live(),
        title_es="Guía de movilidad",
        slug_es="guia-movilidad",
        title_en="Mobility guide",
        slug_en="mobility-guide",
        pillar_topic=topic,
    )
    return topic


def checks(**overrides: Any) -> dict[str, Check]:
    fields: dict[str, Any] = {
        "title": "El nuevo carril bici de la avenida abre en marzo",
        "slug": "nuevo-carril-bici-avenida",
        "summary": "",
        "body_html": GOOD_BODY,
        "meta_title": "",
        "meta_description": (
            "Dos kilómetros de carril bici protegido unen la estación con el polideportivo."
        ),
        "focus_keyword": "carril bici",
        "hero_image": None,
        "hero_image_alt": "",
        "topics": [],
        "language": "es",
        **overrides,
    }
    with translation.override("en"):
        return {check.code: check for check in article_checklist(**fields)}


def test_a_well_prepared_article_passes_every_check(mobility: Any) -> None:
    result = checks(topics=[mobility])

    assert list(result) == [
        "keyword",
        "keyword_title",
        "keyword_slug",
        "keyword_intro",
        "keyword_unique",
        "title_length",
        "meta_description",
        "headings",
        "image_alt",
        "internal_link",
        "readability",
        "pillar_link",
    ]
    assert [code for code, check in result.items() if not check.passed] == []
    assert {check.level for check in result.values()} == {"ok"}
    assert checklist_score(result.values()) == 100


# --- Focus keyword -----------------------------------------------------------------------------


def test_without_a_focus_keyword_only_that_check_fails() -> None:
    result = checks(focus_keyword="  ")

    assert not result["keyword"].passed and result["keyword"].level == "warning"
    assert "keyword_title" not in result and "keyword_slug" not in result


def test_focus_keyword_in_the_title_ignores_case_and_accents() -> None:
    assert checks(focus_keyword="Camion", title="El camión de la basura pasa de noche")[
        "keyword_title"
    ].passed
    assert checks(meta_title="Carril bici: así es el nuevo trazado", title="Obras")[
        "keyword_title"
    ].passed
    failed = checks(title="El nuevo trazado para bicicletas abre en marzo")["keyword_title"]
    assert not failed.passed
    assert failed.message == "Use the focus keyword in the title."


def test_focus_keyword_must_be_whole_words() -> None:
    result = checks(focus_keyword="bici", title="La bicicleta pública llega al centro urbano")

    assert not result["keyword_title"].passed


def test_focus_keyword_in_the_slug_is_compared_slugified() -> None:
    assert checks(focus_keyword="educación", slug="plazas-educacion-infantil")[
        "keyword_slug"
    ].passed
    failed = checks(slug="carril-bicicleta-avenida")["keyword_slug"]
    assert not failed.passed
    assert "“carril-bici”" in failed.message


def test_focus_keyword_in_the_first_paragraph() -> None:
    late = "<p>Abre en marzo.</p><p>El carril bici mide dos kilómetros.</p>"
    assert not checks(body_html=late)["keyword_intro"].passed
    early = "<h2>Novedades</h2><p>El CARRIL BICI abre en marzo.</p>"
    assert checks(body_html=early)["keyword_intro"].passed


def test_focus_keyword_used_by_another_article_is_flagged(editor: Any) -> None:
    other = ArticleFactory(title_es="Otro carril", focus_keyword_es="Carril Bici")

    result = checks()
    assert not result["keyword_unique"].passed
    assert "“Otro carril”" in result["keyword_unique"].message
    # The article itself is not "another article".
    assert checks(article_pk=other.pk, focus_keyword="carril bici")["keyword_unique"].passed


# --- Title and meta description ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "passed", "level"),
    [
        (29, False, "warning"),
        (30, True, "ok"),
        (60, True, "ok"),
        (61, False, "warning"),
        (70, False, "warning"),
        (71, False, "error"),
    ],
)
def test_title_length(length: int, passed: bool, level: str) -> None:
    title = "Carril bici " + "a" * (length - 12)

    check = checks(title=title)["title_length"]

    assert (check.passed, check.level) == (passed, level)
    assert f"has {length} characters" in check.message


def test_meta_title_is_the_title_measured() -> None:
    check = checks(meta_title="Carril bici")["title_length"]

    assert not check.passed
    assert "has 11 characters" in check.message


@pytest.mark.parametrize(("length", "passed"), [(49, False), (50, True), (160, True), (161, False)])
def test_meta_description_length(length: int, passed: bool) -> None:
    check = checks(meta_description="a" * length)["meta_description"]

    assert check.passed is passed
    assert f"has {length} characters" in check.message


def test_summary_stands_in_for_a_missing_meta_description() -> None:
    summary = "La línea 4 del autobús urbano amplía su horario hasta las once y media."

    check = checks(meta_description="", summary=summary)["meta_description"]

    assert check.passed
    assert check.message.startswith("There is no meta description, so search engines get the")
    missing = checks(meta_description="", summary="")["meta_description"]
    assert not missing.passed and missing.message.startswith("Write a meta description")


# --- Body ------------------------------------------------------------------------------------


def test_headings_must_start_at_h2_and_not_skip_levels() -> None:
    skipped = checks(body_html="<p>Carril bici.</p><h2>Uno</h2><h4>Detalle</h4>")["headings"]
    assert not skipped.passed
    assert skipped.message == (
        "The heading “Detalle” is an h4 straight after an h2: do not skip levels."
    )
    first = checks(body_html="<h3>Resumen</h3><p>Carril bici.</p>")["headings"]
    assert not first.passed
    assert first.message == "The first heading, “Resumen”, is an h3: start with an h2."
    back_up = "<h2>Uno</h2><h3>Uno y medio</h3><h4>Detalle</h4><h2>Dos</h2>"
    assert checks(body_html=back_up)["headings"].passed


def test_every_image_needs_alternative_text() -> None:
    body = (
        '<p>Carril bici.</p><img src="/media/a.png" alt="Un carril verde"><img src="/media/b.png">'
    )

    check = checks(body_html=body)["image_alt"]

    assert not check.passed and check.level == "error"
    assert check.message == "1 image in the body has no alternative text."


def test_hero_image_needs_alternative_text() -> None:
    check = checks(hero_image="content/articles/bus.png", hero_image_alt=" ")["image_alt"]

    assert not check.passed
    assert check.message == "Describe the hero image in its alternative text."
    described = checks(hero_image="content/articles/bus.png", hero_image_alt="Un autobús")
    assert described["image_alt"].passed


@pytest.mark.parametrize(
    ("href", "internal"),
    [
        ("/es/temas/movilidad/", True),
        ("http://127.0.0.1:8000/es/noticias/", True),
        ("https://testserver/es/", True),
        ("https://www.boe.es/", False),
        ("//www.boe.es/es/", False),
        ("mailto:atencion@villaclara.example", False),
    ],
)
def test_internal_link_is_one_to_this_site(href: str, internal: bool) -> None:
    body = f'<p>El carril bici. <a href="{href}">Más</a></p>'

    assert checks(body_html=body)["internal_link"].passed is internal


def test_readability_is_scored_for_spanish_only() -> None:
    long_sentence = (
        "<p>El carril bici, de conformidad con lo establecido en la normativa reguladora de la "
        "movilidad sostenible municipal, proporcionará conectividad interdistrital mediante "
        "infraestructuras segregadas convenientemente señalizadas e iluminadas "
        "permanentemente durante las veinticuatro horas.</p>"
    )
    check = checks(body_html=long_sentence)["readability"]
    assert not check.passed
    assert check.message.startswith("Readability (Fernández-Huerta): ")
    assert "Use shorter sentences: the average is 32 words; aim for under 20." in check.message
    assert "readability" not in checks(language="en", body_html=long_sentence)
    empty = checks(body_html="")["readability"]
    assert not empty.passed and empty.message == "Write the body to measure how easy it is to read."


# --- Topic cluster -----------------------------------------------------------------------------


def test_pillar_link_is_required_when_a_topic_has_a_pillar(mobility: Any) -> None:
    body = '<p>El carril bici. <a href="/es/noticias/">Noticias</a></p>'

    check = checks(topics=[mobility], body_html=body)["pillar_link"]

    assert not check.passed
    assert check.message == (
        "Link to the pillar page of the article's topic: “Guía de movilidad” "
        "(/es/paginas/guia-movilidad/)."
    )
    english = checks(topics=[mobility], body_html=body, language="en")["pillar_link"]
    assert "“Mobility guide” (/en/pages/mobility-guide/)" in english.message


def test_pillar_link_is_skipped_when_no_topic_has_a_pillar() -> None:
    assert "pillar_link" not in checks(topics=[TopicFactory()])
    none = checks(topics=[])["pillar_link"]
    assert not none.passed
    assert none.message == "Choose the article's topics: they place it in its topic's cluster."


def test_score_is_the_share_of_passed_checks() -> None:
    result = [
        Check("a", True, "ok", ""),
        Check("b", False, "warning", ""),
        Check("c", False, "error", ""),
        Check("d", True, "ok", ""),
    ]

    assert checklist_score(result) == 50
    assert checklist_score([]) == 100


# --- In the admin ------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_change_page_shows_the_saved_checklist_per_written_language(editor: Any) -> None:
    article = ArticleFactory(
        title_es="Biblioteca",
        focus_keyword_es="biblioteca",
        title_en="Library opening hours",
        slug_en="library-hours",
    )
    with translation.override("en"):
        url = reverse("admin:content_article_change", args=[article.pk])
        endpoint = reverse("admin:content_article_seo_checklist_change", args=[article.pk])
        html = _client(editor).get(url).content.decode()

    assert 'id="seo-checklist-results" aria-live="polite"' in html
    assert f'data-url="{endpoint}"' in html
    assert "Spanish: " in html and "English: " in html and "Catalan: " not in html
    assert "Focus keyword: “biblioteca”." in html
    assert 'alt="To improve:"' in html  # an icon and a word, not colour alone
    assert "js/seo-checklist.js" in html


def test_saving_rechecks_the_article(editor: Any) -> None:
    from tests.content.test_admin import _form

    article = ArticleFactory()
    client = _client(editor)
    with translation.override("en"):
        url = reverse("admin:content_article_change", args=[article.pk])
        form = _form(focus_keyword_es="biblioteca", _continue="1")
        response = client.post(url, form, follow=True)
        html = response.content.decode()

    assert response.redirect_chain and response.status_code == 200
    article.refresh_from_db()
    assert article.focus_keyword_es == "biblioteca"  # type: ignore[attr-defined]
    assert "Focus keyword: “biblioteca”." in html


def test_a_form_with_errors_is_checked_as_submitted(editor: Any) -> None:
    from tests.content.test_admin import _form

    article = ArticleFactory()
    with translation.override("en"):
        url = reverse("admin:content_article_change", args=[article.pk])
        response = _client(editor).post(url, _form(title_es="", focus_keyword_es="piscinas"))
        html = response.content.decode()

    assert response.status_code == 200  # the form again, with its error
    assert "Focus keyword: “piscinas”." in html
    article.refresh_from_db()
    assert not article.focus_keyword_es  # type: ignore[attr-defined]


def test_checklist_endpoint_returns_the_fragment_for_the_typed_form(editor: Any) -> None:
    article = ArticleFactory()
    with translation.override("en"):
        url = reverse("admin:content_article_seo_checklist_change", args=[article.pk])
        response = _client(editor).post(
            url,
            {
                "title_es": "Piscinas de verano",
                "focus_keyword_es": "piscinas",
                "body_es": "<h3>Horario</h3>",
                "topics": ["not-a-number", "999999"],
                "title_gl": "Piscinas de verán",
            },
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Focus keyword: “piscinas”." in html
    assert "The first heading, “Horario”, is an h3: start with an h2." in html
    assert "Galician: " in html


def test_checklist_endpoint_works_on_the_add_page(editor: Any) -> None:
    with translation.override("en"):
        response = _client(editor).post(reverse("admin:content_article_seo_checklist"), {})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Add a focus keyword" in html
    # Only headings and images pass in an empty form.
    assert "Spanish: 2 of 8 checks passed (25%)" in html


def test_checklist_endpoint_answers_only_post(editor: Any) -> None:
    response = _client(editor).get(reverse("admin:content_article_seo_checklist"))

    assert response.status_code == 405


def test_checklist_endpoint_requires_the_csrf_token(editor: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)

    response = client.post(reverse("admin:content_article_seo_checklist"), {})

    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client: Client) -> None:
    response = client.post(reverse("admin:content_article_seo_checklist"), {})

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_staff_who_may_only_view_articles_get_403(analyst: Any) -> None:
    article = ArticleFactory()
    client = _client(analyst)

    add = client.post(reverse("admin:content_article_seo_checklist"), {})
    change = client.post(
        reverse("admin:content_article_seo_checklist_change", args=[article.pk]), {}
    )

    assert (add.status_code, change.status_code) == (403, 403)


def test_writer_cannot_check_a_published_article_they_may_not_change(writer: Any) -> None:
    article = ArticleFactory(**_live())

    response = _client(writer).post(
        reverse("admin:content_article_seo_checklist_change", args=[article.pk]), {}
    )

    assert response.status_code == 403


def test_checklist_of_a_missing_article_is_404(editor: Any) -> None:
    response = _client(editor).post(
        reverse("admin:content_article_seo_checklist_change", args=[999999]), {}
    )

    assert response.status_code == 404


def test_read_only_viewers_see_the_checklist_without_the_live_update(analyst: Any) -> None:
    article = ArticleFactory(focus_keyword_es="biblioteca")
    with translation.override("en"):
        html = (
            _client(analyst)
            .get(reverse("admin:content_article_change", args=[article.pk]))
            .content.decode()
        )

    assert "Focus keyword: “biblioteca”." in html
    assert "data-url=" not in html


def test_staff_without_article_permissions_cannot_open_the_endpoint(db: None) -> None:
    nobody = StaffFactory(username="sin-permisos")
    assert not Permission.objects.filter(user=nobody).exists()

    response = _client(nobody).post(reverse("admin:content_article_seo_checklist"), {})

    assert response.status_code == 403
