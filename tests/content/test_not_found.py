"""Addresses with nothing behind them are a 404 page in the visitor's language, never a 500,
a redirect or someone else's content: unknown or untranslated slugs, bad page numbers,
unknown language prefixes, and content that is not live."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from content.models import Status
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory
from tests.content.test_public_pages import live

pytestmark = pytest.mark.django_db

NOT_FOUND = {
    "es": ("Página no encontrada", "La página que buscas no existe o ha cambiado de dirección."),
    "en": ("Page not found", "The page you are looking for does not exist or has moved."),
}


@pytest.fixture(autouse=True)
def _spanish_catalogue(compiled_translations: None) -> None:
    """The 404 page is checked in Spanish, so the catalogue must be compiled."""


def url(name: str, language: str, **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def assert_not_found(client: Client, path: str, language: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    html = response.content.decode()
    assert f'<html lang="{language}">' in html, path
    heading, explanation = NOT_FOUND[language]
    assert heading in html and explanation in html, path


# --- Unknown slugs ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("content:article-detail", {"slug": "no-existe"}),
        ("content:video-detail", {"slug": "no-existe"}),
        ("content:topic-detail", {"slug": "no-existe"}),
        ("content:topic-feed-rss", {"slug": "no-existe"}),
        ("content:topic-feed-atom", {"slug": "no-existe"}),
        ("content:page-detail", {"path": "no-existe"}),
        ("content:page-detail", {"path": "no/existe/tampoco"}),
        ("content:preview", {"token": "no-es-un-enlace-firmado"}),
    ],
)
def test_an_unknown_address_is_a_404_in_the_visitors_language(
    client: Client, name: str, kwargs: dict[str, str], language: str
) -> None:
    assert_not_found(client, url(name, language, **kwargs), language)


def test_an_article_written_only_in_spanish_is_not_found_under_english(client: Client) -> None:
    article = ArticleFactory(**live(slug_es="nueva-biblioteca"))
    assert client.get(url("content:article-detail", "es", slug=article.slug_es)).status_code == 200
    assert_not_found(client, url("content:article-detail", "en", slug="nueva-biblioteca"), "en")


def test_an_english_slug_is_not_found_under_spanish(client: Client) -> None:
    ArticleFactory(**live(title_en="New library", slug_en="new-library"))
    assert client.get(url("content:article-detail", "en", slug="new-library")).status_code == 200
    assert_not_found(client, url("content:article-detail", "es", slug="new-library"), "es")


def test_a_slug_without_a_title_in_that_language_is_not_found(client: Client) -> None:
    ArticleFactory(**live(slug_en="half-translated"))
    assert_not_found(client, url("content:article-detail", "en", slug="half-translated"), "en")


def test_a_video_written_only_in_spanish_is_not_found_under_english(client: Client) -> None:
    video = VideoFactory(**live())
    assert_not_found(client, url("content:video-detail", "en", slug=video.slug_es), "en")


def test_a_page_under_the_wrong_parent_or_with_an_empty_step_is_not_found(
    client: Client,
) -> None:
    parent = PageFactory(**live(slug_es="servicios"))
    PageFactory(**live(slug_es="empadronamiento"), parent=parent)
    PageFactory(**live(slug_es="cultura"))
    for path in ("cultura/empadronamiento", "servicios//empadronamiento", "empadronamiento"):
        assert_not_found(client, url("content:page-detail", "es", path=path), "es")


@pytest.mark.parametrize("path", ["%00", "servicios/%00", "a%C3%B1o", "%ZZ", "..", "a.b", "a b"])
def test_an_odd_page_path_is_a_404_not_an_error(client: Client, path: str) -> None:
    PageFactory(**live(slug_es="servicios"))
    assert_not_found(client, f"/es/paginas/{path}/", "es")


def test_a_topic_not_offered_to_citizens_is_not_found(client: Client) -> None:
    TopicFactory(slug="interno", is_public=False)
    assert_not_found(client, url("content:topic-detail", "es", slug="interno"), "es")
    assert_not_found(client, url("content:topic-feed-rss", "es", slug="interno"), "es")


# --- Page numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["0", "-1", "abc", "999", "02", "1.5", "", "%00", "1%20", "%C2%B9", "%D9%A3", "1e3"]
)
@pytest.mark.parametrize("name", ["content:article-list", "content:topic-detail"])
def test_a_page_number_that_does_not_exist_is_a_404(client: Client, name: str, page: str) -> None:
    topic = TopicFactory(slug="movilidad")
    ArticleFactory(**live()).topics.add(topic)
    kwargs = {"slug": "movilidad"} if name == "content:topic-detail" else {}
    path = url(name, "en", **kwargs)
    assert client.get(path).status_code == 200
    assert_not_found(client, f"{path}?page={page}", "en")


# --- Unknown language prefixes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/fr/noticias/x/", "/fr/news/x/", "/xx/", "/fr/", "/pt-br/noticias/"]
)
def test_an_unknown_language_prefix_is_a_404_in_spanish(client: Client, path: str) -> None:
    ArticleFactory(**live(slug_es="x"))
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="es">' in html and NOT_FOUND["es"][0] in html


def test_a_language_we_translate_content_into_but_do_not_publish_in_is_a_404(
    client: Client,
) -> None:
    ArticleFactory(**live(title_ca="Nova biblioteca", slug_ca="nova-biblioteca"))
    assert_not_found(client, "/ca/noticias/nova-biblioteca/", "es")


# --- Content that is not live -----------------------------------------------------------------


def _not_live() -> list[dict[str, Any]]:
    ahead = timezone.now() + dt.timedelta(days=1)
    return [
        {"status": Status.DRAFT},
        {"status": Status.IN_REVIEW},
        # Scheduled: published, but its time has not come (`published_at` stays empty).
        {"status": Status.PUBLISHED, "publish_at": ahead, "published_at": None},
        # A live date in the future set by hand is not live either.
        {"status": Status.PUBLISHED, "published_at": ahead},
    ]


@pytest.mark.parametrize("state", range(4), ids=["draft", "in-review", "scheduled", "future"])
def test_content_that_is_not_live_is_not_found(client: Client, state: int) -> None:
    fields = _not_live()[state]
    topic = TopicFactory(slug="movilidad")
    article = ArticleFactory(**fields, title_en="Library", slug_en="library")
    article.topics.add(topic)
    video = VideoFactory(**fields)
    page = PageFactory(**fields)
    faq = FAQFactory(**fields, question_es="¿Pregunta oculta?", topic=topic)
    for language, slug in (("es", article.slug_es), ("en", "library")):
        assert_not_found(client, url("content:article-detail", language, slug=slug), language)
    assert_not_found(client, url("content:video-detail", "es", slug=video.slug_es), "es")
    assert_not_found(client, url("content:page-detail", "es", path=page.slug_es), "es")
    assert faq.question_es not in client.get(url("content:faq-list", "es")).content.decode()
    topic_page = client.get(url("content:topic-detail", "es", slug="movilidad")).content.decode()
    assert article.title_es not in topic_page and faq.question_es not in topic_page


def test_a_live_page_under_a_draft_parent_is_not_found(client: Client) -> None:
    parent = PageFactory(slug_es="servicios")
    PageFactory(**live(slug_es="empadronamiento"), parent=parent)
    assert_not_found(
        client, url("content:page-detail", "es", path="servicios/empadronamiento"), "es"
    )
