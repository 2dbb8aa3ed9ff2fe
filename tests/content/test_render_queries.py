"""What a render of the home and of an article costs when the page cache does not answer it
(staff, a session cookie, a query string, the page cache off), and that the fragments it keeps
never show stale content."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from content.models import Status
from content.services import content_publish, content_save, content_unpublish
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_off(settings: Any) -> None:
    """Every request renders, as for staff or a citizen with a session cookie."""
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def article_path(slug: str) -> str:
    with translation.override("es"):
        return reverse("content:article-detail", kwargs={"slug": slug})


def html(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def news() -> list[Any]:
    """Featured and ordinary live articles, each under a public topic."""
    topics = [TopicFactory(is_public=True) for _ in range(4)]
    articles = []
    for index in range(8):
        article = ArticleFactory(**live(featured=index < 2))
        article.topics.add(topics[index % len(topics)])
        articles.append(article)
    return articles


def test_home_renders_with_at_most_four_queries_and_then_none(
    client: Client,
    news: list[Any],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(4):
        first = html(client, "/es/")
    with django_assert_num_queries(0):
        again = html(client, "/es/")
    assert again == first
    for article in news[-3:]:  # the newest three are the latest news
        assert article.title_es in again
    for article in news[:2]:  # the featured ones
        assert article.title_es in again
    assert 'id="featured-topics"' in again


def test_article_renders_with_at_most_four_queries_and_then_none(
    client: Client,
    news: list[Any],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    article = news[0]
    path = article_path(article.slug_es)
    with django_assert_max_num_queries(4):
        first = html(client, path)
    with django_assert_num_queries(0):
        again = html(client, path)
    assert again == first
    assert article.body_es in again
    assert 'id="related-title"' in again and news[4].title_es in again


def test_publishing_shows_the_new_article_on_a_rendered_home_at_once(
    client: Client, news: list[Any], editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    html(client, "/es/")
    draft = ArticleFactory(title_es="Nueva línea de autobús nocturno")
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=draft, actor=editor)
    assert "Nueva línea de autobús nocturno" in html(client, "/es/")


def test_an_edited_article_shows_its_new_text_at_once(
    client: Client, news: list[Any], editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = news[0]
    path = article_path(article.slug_es)
    html(client, path)
    article.body_es = "<p>El horario cambia a partir del lunes.</p>"
    with django_capture_on_commit_callbacks(execute=True):
        content_save(obj=article, actor=editor)
    assert "El horario cambia a partir del lunes." in html(client, path)


def test_an_unpublished_article_is_gone_at_once(
    client: Client, news: list[Any], editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    article = news[0]
    path = article_path(article.slug_es)
    html(client, path)
    with django_capture_on_commit_callbacks(execute=True):
        content_unpublish(obj=article, actor=editor)
    assert client.get(path).status_code == 404
    assert article.title_es not in html(client, "/es/")


def test_kept_fragments_are_per_language(client: Client, news: list[Any]) -> None:
    article = news[-1]
    article.title_en = "New library opening hours"
    article.slug_en = "library-hours"
    article.save()
    assert article.title_es in html(client, "/es/")
    english = html(client, "/en/")
    assert "New library opening hours" in english
    assert 'href="/en/' in english.split('id="latest-news"')[1]
