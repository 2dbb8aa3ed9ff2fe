"""Site search as a citizen uses it, and the `search` touchpoints it leaves behind."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Touchpoint
from content.models import Article, Status
from content.search import (
    PERSONAL_DATA_REMOVED,
    RATE_LIMIT,
    content_search,
    search_query_normalise,
)
from inbound.celery import app as celery_app
from inbound.lib.privacy import ip_hash
from inbound.visitors import visitor_key
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full-text search"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite fallback search")


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def search_url(language: str = "es") -> str:
    with translation.override(language):
        return reverse("content:search")


def search(
    client: Client,
    q: str,
    language: str = "es",
    status: int = 200,
    page: Any = None,
    **extra: Any,
) -> str:
    """The search page's HTML; `extra` are request headers (WSGI names), as for `client.get`."""
    params: dict[str, Any] = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get(search_url(language), params, **extra)
    assert response.status_code == status
    return str(response.content.decode())


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the touchpoint task in-process, through the same `delay_on_commit` path."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def searches() -> list[Touchpoint]:
    return list(Touchpoint.objects.filter(kind="search").order_by("id"))


# --- What is found -----------------------------------------------------------------------------


def test_search_finds_each_kind_of_live_content(client: Client) -> None:
    topic = TopicFactory(slug="deportes", name="Deportes")
    ArticleFactory(**live(title_es="La piscina municipal abre en junio", slug_es="piscina-junio"))
    PageFactory(**live(title_es="Piscinas", slug_es="piscinas", body_es="<p>Horarios.</p>"))
    FAQFactory(**live(question_es="¿Cuánto cuesta la piscina?"), topic=topic)
    VideoFactory(**live(title_es="Visita a la piscina", slug_es="visita-piscina"))

    page = search(client, "piscina")

    assert "La <mark>piscina</mark> municipal abre en junio" in page
    assert "¿Cuánto cuesta la <mark>piscina</mark>?" in page
    assert "Visita a la <mark>piscina</mark>" in page
    assert "<mark>Piscinas</mark>" in page
    with translation.override("es"):
        assert f'href="{reverse("content:article-detail", args=["piscina-junio"])}"' in page
        assert f'href="{reverse("content:page-detail", args=["piscinas"])}"' in page
        assert f'href="{reverse("content:faq-list")}#faq-topic-deportes"' in page
        assert f'href="{reverse("content:video-detail", args=["visita-piscina"])}"' in page


def test_results_are_counted_and_labelled_by_kind(client: Client) -> None:
    ArticleFactory(**live(title_en="Swimming pool opens", slug_en="pool-opens"))
    VideoFactory(**live(title_en="A visit to the pool", slug_en="pool-visit", transcript_en="Hi."))

    page = search(client, "pool", language="en")

    assert "2 results for “pool”" in page
    assert ">News</p>" in page and ">Video</p>" in page


def test_drafts_in_review_and_scheduled_content_are_never_found(client: Client) -> None:
    ArticleFactory(title_es="Borrador sobre la piscina")
    ArticleFactory(title_es="Piscina en revisión", status=Status.IN_REVIEW)
    ArticleFactory(title_es="Piscina programada", status=Status.PUBLISHED, published_at=None)
    ArticleFactory(
        title_es="Piscina futura",
        status=Status.PUBLISHED,
        published_at=timezone.now() + dt.timedelta(days=1),
    )

    assert content_search("piscina", language="es").total == 0
    assert "Borrador" not in search(client, "piscina")


def test_content_not_written_in_the_language_is_not_found(client: Client) -> None:
    ArticleFactory(**live(title_es="La piscina municipal", summary_es="Pool pool pool"))

    page = search(client, "pool", language="en")

    assert "La piscina municipal" not in page
    assert "0 results for “pool”" in page


def test_a_page_under_an_unpublished_parent_is_not_found(client: Client) -> None:
    parent = PageFactory(title_es="Servicios", slug_es="servicios")
    PageFactory(**live(title_es="Empadronamiento", slug_es="padron"), parent=parent)
    live_parent = PageFactory(**live(title_es="Trámites", slug_es="tramites"))
    PageFactory(**live(title_es="Empadronamiento online", slug_es="online"), parent=live_parent)

    results = content_search("empadronamiento", language="es")

    with translation.override("es"):
        expected = reverse("content:page-detail", args=["tramites/online"])
    assert [hit.url for hit in results.hits] == [expected]
    assert results.total == 1


def test_faqs_of_internal_topics_are_not_found(client: Client) -> None:
    FAQFactory(**live(question_es="¿Dónde dejo el coche?"), topic=TopicFactory(is_public=False))

    assert content_search("coche", language="es").total == 0


def test_search_is_accent_and_case_insensitive(client: Client) -> None:
    ArticleFactory(**live(title_es="Información sobre el Padrón"))

    assert content_search("INFORMACION padron", language="es").total == 1
    page = search(client, "informacion")
    assert "<mark>Información</mark> sobre el Padrón" in page


def test_title_matches_rank_above_body_matches(client: Client) -> None:
    in_body: Any = ArticleFactory(
        **live(title_es="Novedades de mayo", body_es="<p>Habrá un mercadillo en la plaza.</p>")
    )
    in_title: Any = ArticleFactory(**live(title_es="Mercadillo de mayo"))
    # Newer, so only the rank can put the title match first.
    Article.objects.filter(pk=in_body.pk).update(published_at=timezone.now())

    results = content_search("mercadillo", language="es")

    assert [hit.title.replace("<mark>", "").replace("</mark>", "") for hit in results.hits] == [
        in_title.title_es,
        in_body.title_es,
    ]


@postgres_only
def test_spanish_stemming_finds_other_forms_of_a_word(client: Client) -> None:
    ArticleFactory(**live(title_es="Nueva multa por aparcar en doble fila"))

    page = search(client, "multas")

    assert "Nueva <mark>multa</mark> por aparcar" in page


@postgres_only
def test_web_search_syntax_excludes_words(client: Client) -> None:
    ArticleFactory(**live(title_es="Obras en la calle Mayor"))
    ArticleFactory(**live(title_es="Obras en la plaza"))

    titles = [hit.title for hit in content_search("obras -plaza", language="es").hits]

    assert len(titles) == 1 and "Mayor" in titles[0]


@sqlite_only
def test_the_fallback_finds_words_inside_longer_words(client: Client) -> None:
    ArticleFactory(**live(title_es="Nuevas líneas de autobuses"))

    page = search(client, "autobus")

    assert "<mark>autobuses</mark>" in page


@sqlite_only
def test_the_fallback_needs_every_word(client: Client) -> None:
    ArticleFactory(**live(title_es="Obras en la calle Mayor"))

    assert content_search("obras mayor", language="es").total == 1
    assert content_search("obras menor", language="es").total == 0


def test_snippet_shows_the_body_around_the_match(client: Client) -> None:
    filler = " ".join(["Texto de relleno sin interés."] * 30)
    ArticleFactory(
        **live(
            title_es="Noticia larga",
            summary_es="",
            body_es=f"<p>{filler}</p><p>El plazo de matrícula termina el viernes.</p>",
        )
    )

    hit = content_search("matrícula", language="es").hits[0]

    assert "<mark>matrícula</mark> termina el viernes" in hit.snippet
    assert hit.snippet.startswith("… ")
    assert "<p>" not in hit.snippet


# --- Hostile content and input -----------------------------------------------------------------


def test_hostile_titles_and_bodies_are_shown_escaped(client: Client) -> None:
    ArticleFactory(
        **live(
            title_es='<script>alert("piscina")</script> Piscina',
            summary_es='<img src=x onerror="alert(1)"> piscina',
            body_es="<p>&lt;script&gt;alert(2)&lt;/script&gt; piscina</p>",
        )
    )

    page = search(client, "piscina")

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;<mark>piscina</mark>&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>piscina</mark>" in page


@pytest.mark.parametrize(
    "query",
    ['"piscina', "piscina & | ! ( ) : *", "-", "' OR 1=1 --", "a\x01b", "😀", "<mark>"],
)
def test_odd_queries_never_fail(client: Client, query: str) -> None:
    ArticleFactory(**live(title_es="Piscina"))

    search(client, query)


def test_a_null_character_is_refused_with_a_message(client: Client) -> None:
    page = search(client, "pool\x00", language="en", status=400)

    assert "Null characters are not allowed." in page


def test_a_query_over_200_characters_is_refused_with_a_message(
    client: Client, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    ArticleFactory(**live(title_en="Swimming pool", slug_en="pool"))

    with django_capture_on_commit_callbacks(execute=True):
        page = search(client, "pool " * 40 + "p", language="en", status=400)

    assert "Your search is too long: write at most 200 characters (it has 201)." in page
    assert 'aria-invalid="true"' in page
    assert "Swimming pool" not in page
    assert searches() == []


def test_an_empty_query_shows_only_the_form(client: Client, eager_celery: None) -> None:
    page = search(client, "   ", language="en")

    assert 'type="search"' in page
    assert "results for" not in page
    assert searches() == []


def test_a_bad_page_number_is_a_clear_error(client: Client) -> None:
    page = search(client, "pool", language="en", status=400, page="two")

    assert "The page number must be a whole number." in page


# --- Pages, caching, indexing ------------------------------------------------------------------


def test_results_come_ten_to_a_page_and_keep_the_query(client: Client) -> None:
    for number in range(12):
        ArticleFactory(**live(title_es=f"Concierto número {number}"))

    first = search(client, "concierto")
    second = search(client, "concierto", page=2)

    assert first.count('class="card search-result"') == 10
    assert second.count('class="card search-result"') == 2
    assert "?q=concierto&amp;page=2" in first
    assert client.get(search_url(), {"q": "concierto", "page": "3"}).status_code == 404


def test_the_search_page_is_not_indexed(client: Client) -> None:
    response = client.get(search_url(), {"q": "piscina"})

    assert '<meta name="robots" content="noindex">' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex"


def test_results_are_never_served_from_the_page_cache(client: Client) -> None:
    assert "0 results" in search(client, "pool", language="en")
    ArticleFactory(**live(title_en="Swimming pool", slug_en="pool"))

    assert "1 result for “pool”" in search(client, "pool", language="en")


def test_no_results_suggests_faqs_and_topics(client: Client) -> None:
    TopicFactory(slug="movilidad", name="Mobility", is_public=True)
    TopicFactory(slug="interno", name="Internal", is_public=False)

    page = search(client, "xyzzy", language="en")

    assert "0 results for “xyzzy”" in page
    with translation.override("en"):
        assert reverse("content:faq-list") in page
        assert reverse("content:topic-detail", kwargs={"slug": "movilidad"}) in page
    assert "Internal" not in page


def test_every_public_page_has_the_search_form_in_its_header(client: Client) -> None:
    page = client.get("/en/").content.decode()

    assert '<form class="site-search" role="search" action="/en/' in page
    assert 'aria-label="Search the site"' in page


def test_a_search_is_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    topic = TopicFactory()
    for number in range(15):
        ArticleFactory(**live(title_es=f"Piscina {number}"))
        FAQFactory(**live(question_es=f"¿Piscina {number}?"), topic=topic)
        PageFactory(**live(title_es=f"Piscina {number}"))
        VideoFactory(**live(title_es=f"Piscina {number}"))

    # pages' paths, one per content type, and PostgreSQL's text-search configurations once.
    with django_assert_max_num_queries(6):
        assert content_search("piscina", language="es").total == 60


# --- Rate limit --------------------------------------------------------------------------------


def test_too_many_searches_from_one_address_get_a_429(client: Client) -> None:
    for _ in range(RATE_LIMIT):
        search(client, "piscina", language="en")

    response = client.get(search_url("en"), {"q": "piscina"})

    assert response.status_code == 429
    assert "Please wait a minute and try again." in response.content.decode()
    assert response["Retry-After"] == "60"
    other = client.get(search_url("en"), {"q": "piscina"}, REMOTE_ADDR="192.0.2.99")
    assert other.status_code == 200


# --- Touchpoints -------------------------------------------------------------------------------


def test_a_search_records_a_touchpoint_with_query_results_and_language(
    client: Client, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    ArticleFactory(**live(title_es="Piscina municipal"))

    with django_capture_on_commit_callbacks(execute=True):
        search(client, "  Piscina   MUNICIPAL ", REMOTE_ADDR="203.0.113.7")

    [touchpoint] = searches()
    assert touchpoint.stage == "attract"
    assert touchpoint.contact is None
    assert touchpoint.properties == {"query": "piscina municipal", "results": 1, "language": "es"}
    # The day's salted key of this visitor (inbound.visitors), not a lasting hash of the address.
    same_visitor = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    assert touchpoint.visitor_key == visitor_key(same_visitor)
    assert touchpoint.visitor_key != ip_hash("203.0.113.7")


def test_search_touchpoints_are_queued_on_the_tracking_queue() -> None:
    route = celery_app.amqp.router.route({}, "content.tasks.tracking_search_record")

    assert route["queue"].name == "tracking"


def test_only_the_first_page_of_results_is_recorded(
    client: Client, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    for number in range(11):
        ArticleFactory(**live(title_es=f"Concierto {number}"))

    with django_capture_on_commit_callbacks(execute=True):
        search(client, "concierto")
        search(client, "concierto", page=2)

    assert [t.properties["results"] for t in searches()] == [11]


def test_global_privacy_control_records_no_visitor_key(
    client: Client, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        search(client, "piscina", HTTP_SEC_GPC="1")

    [touchpoint] = searches()
    assert touchpoint.visitor_key == ""
    assert touchpoint.properties["results"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "lucia.perez@correo.example",
        "mi correo es ana @ gmail",
        "600 123 456",
        "+34 600-12-34-56",
        "12345678Z",
        "X1234567L multa",
        "ES91 2100 0418 4502 0005 1332",
    ],
)
def test_queries_that_look_like_personal_data_are_not_stored(
    client: Client, eager_celery: None, django_capture_on_commit_callbacks: Any, query: str
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        search(client, query)

    [touchpoint] = searches()
    assert touchpoint.properties["query"] == PERSONAL_DATA_REMOVED


def test_recorded_queries_are_normalised_and_cut_to_100_characters() -> None:
    assert (
        search_query_normalise("  Horario\tBIBLIOTECA\n central ") == "horario biblioteca central"
    )
    assert len(search_query_normalise("palabra " * 30)) == 100
    assert search_query_normalise("código postal 28001") == "código postal 28001"


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Celery publishes to a port where nothing listens (the connection is refused)."""
    celery_app.conf.broker_url  # noqa: B018 -- load the configuration before changing it
    monkeypatch.setattr(celery_app, "_pool", None)  # the next publish connects anew
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})


def test_a_search_still_answers_when_the_broker_is_down(
    client: Client, broker_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    ArticleFactory(**live(title_es="Piscina"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = search(client, "piscina")

    assert "<mark>Piscina</mark>" in page
    assert len(callbacks) == 1
    assert searches() == []
