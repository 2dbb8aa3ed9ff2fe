"""Conditional GET on the topic, page and FAQ pages: 304 while nothing they show changed,
a fresh page (and a new ETag) as soon as something did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from content.services import content_delete, content_save, content_unpublish
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory
from tests.content.test_public_pages import live

pytestmark = pytest.mark.django_db


def url(name: str, language: str = "es", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def first_visit(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Last-Modified"]
    etag: str = response["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    return etag


def fresh_after(client: Client, path: str, etag: str, change: Callable[[], Any]) -> str:
    """The page is sent again (200, new ETag) after `change`, and the new ETag is honoured."""
    change()
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    return response.content.decode()


@pytest.fixture(autouse=True)
def _render_every_time(settings: Any) -> None:
    """The page cache has its own tests; here every 200 is rendered, so its body shows what
    its ETag stands for."""
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0


@pytest.fixture
def topic(db: None) -> Any:
    return TopicFactory(slug="movilidad", name_es="Movilidad", name_en="Mobility")


# --- Topic page -------------------------------------------------------------------------------


def test_topic_page_answers_304_until_one_of_its_articles_changes(
    client: Client, topic: Any, editor: Any
) -> None:
    article = ArticleFactory(**live())
    article.topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    etag = first_visit(client, path)
    assert (
        client.get(path, HTTP_IF_MODIFIED_SINCE=client.get(path)["Last-Modified"]).status_code
        == 304
    )

    def retitle() -> None:
        article.title_es = "Nuevas líneas de autobús"
        content_save(obj=article, actor=editor)

    assert "Nuevas líneas de autobús" in fresh_after(client, path, etag, retitle)


def test_topic_page_is_fresh_after_an_older_article_is_unpublished(
    client: Client, topic: Any, editor: Any
) -> None:
    older = ArticleFactory(**live(title_es="Carril bici en la avenida"))
    newer = ArticleFactory(**live())
    for article in (older, newer):
        article.topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    etag = first_visit(client, path)
    html = fresh_after(client, path, etag, lambda: content_unpublish(obj=older, actor=editor))
    assert "Carril bici en la avenida" not in html


def test_topic_page_is_fresh_after_an_article_is_deleted(
    client: Client, topic: Any, editor: Any
) -> None:
    gone = ArticleFactory(**live(title_es="Obras en la plaza"))
    newer = ArticleFactory(**live())
    for article in (gone, newer):
        article.topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    etag = first_visit(client, path)
    html = fresh_after(client, path, etag, lambda: content_delete(obj=gone, actor=editor))
    assert "Obras en la plaza" not in html


def test_topic_page_is_fresh_after_a_faq_or_video_is_added(client: Client, topic: Any) -> None:
    ArticleFactory(**live()).topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    etag = first_visit(client, path)
    html = fresh_after(
        client,
        path,
        etag,
        lambda: FAQFactory(**live(question_es="¿Hay bus nocturno?"), topic=topic),
    )
    assert "¿Hay bus nocturno?" in html
    etag = client.get(path)["ETag"]
    html = fresh_after(
        client,
        path,
        etag,
        lambda: VideoFactory(**live(title_es="Cómo usar el bus")).topics.add(topic),
    )
    assert "Cómo usar el bus" in html


def test_topic_page_etag_differs_by_language_and_page(client: Client, topic: Any) -> None:
    for number in range(13):
        ArticleFactory(**live(title_en="Bus news", slug_en=f"bus-news-{number}")).topics.add(topic)
    es = client.get(url("content:topic-detail", slug="movilidad"))
    es_2 = client.get(url("content:topic-detail", slug="movilidad") + "?page=2")
    en = client.get(url("content:topic-detail", "en", slug="movilidad"))
    assert len({es["ETag"], es_2["ETag"], en["ETag"]}) == 3
    path = url("content:topic-detail", "en", slug="movilidad")
    assert client.get(path, HTTP_IF_NONE_MATCH=es["ETag"]).status_code == 200


def test_an_unknown_topic_is_a_404_without_an_etag(client: Client) -> None:
    response = client.get(url("content:topic-detail", slug="no-existe"))
    assert response.status_code == 404
    assert not response.has_header("ETag")


# --- Pages ------------------------------------------------------------------------------------


def test_page_answers_304_until_it_changes(client: Client, editor: Any) -> None:
    page = PageFactory(**live(slug_es="servicios"))
    path = url("content:page-detail", path="servicios")
    etag = first_visit(client, path)

    def rewrite() -> None:
        page.body_es = "<p>Horario nuevo de atención.</p>"
        content_save(obj=page, actor=editor)

    assert "Horario nuevo de atención." in fresh_after(client, path, etag, rewrite)


def test_subpage_is_fresh_after_its_parent_is_renamed(client: Client, editor: Any) -> None:
    parent = PageFactory(**live(slug_es="servicios"))
    PageFactory(**live(slug_es="empadronamiento"), parent=parent)
    path = url("content:page-detail", path="servicios/empadronamiento")
    etag = first_visit(client, path)

    def rename() -> None:
        parent.title_es = "Trámites municipales"
        content_save(obj=parent, actor=editor)

    assert "Trámites municipales" in fresh_after(client, path, etag, rename)


def test_pillar_page_is_fresh_after_its_topic_gets_a_new_article(
    client: Client, topic: Any
) -> None:
    PageFactory(**live(slug_es="guia-movilidad"), pillar_topic=topic)
    path = url("content:page-detail", path="guia-movilidad")
    etag = first_visit(client, path)

    def new_article() -> None:
        ArticleFactory(**live(title_es="Abono joven de transporte")).topics.add(topic)

    fresh_after(client, path, etag, new_article)


def test_a_page_whose_parent_is_a_draft_is_a_404_without_an_etag(client: Client) -> None:
    parent = PageFactory(slug_es="servicios")
    PageFactory(**live(slug_es="empadronamiento"), parent=parent)
    response = client.get(url("content:page-detail", path="servicios/empadronamiento"))
    assert response.status_code == 404
    assert not response.has_header("ETag")


# --- FAQ list ---------------------------------------------------------------------------------


def test_faq_list_answers_304_until_an_answer_changes(
    client: Client, topic: Any, editor: Any
) -> None:
    faq = FAQFactory(**live(), topic=topic)
    path = url("content:faq-list")
    etag = first_visit(client, path)

    def answer() -> None:
        faq.answer_es = "<p>Por internet, con certificado digital.</p>"
        content_save(obj=faq, actor=editor)

    assert "Por internet, con certificado digital." in fresh_after(client, path, etag, answer)


def test_faq_list_is_fresh_after_an_older_faq_is_deleted(
    client: Client, topic: Any, editor: Any
) -> None:
    gone = FAQFactory(**live(question_es="¿Dónde está la oficina?"), topic=topic)
    FAQFactory(**live(), topic=topic)
    path = url("content:faq-list")
    etag = first_visit(client, path)
    html = fresh_after(client, path, etag, lambda: content_delete(obj=gone, actor=editor))
    assert "¿Dónde está la oficina?" not in html


# --- Query counts -----------------------------------------------------------------------------


def test_each_version_lookup_is_one_query(
    client: Client, topic: Any, django_assert_num_queries: Any
) -> None:
    ArticleFactory(**live()).topics.add(topic)
    FAQFactory(**live(), topic=topic)
    PageFactory(**live(slug_es="guia"), pillar_topic=topic)
    paths = [
        url("content:topic-detail", slug="movilidad"),
        url("content:page-detail", path="guia"),
        url("content:faq-list"),
    ]
    for path in paths:
        etag = client.get(path)["ETag"]
        with django_assert_num_queries(1):
            assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304


# The version lookup is one of them: the topic page was at seven with its pillar link.
@pytest.mark.parametrize(("name", "most"), [("topic", 8), ("page", 6), ("faq", 3)])
def test_a_first_visit_runs_a_bounded_number_of_queries(
    client: Client, topic: Any, name: str, most: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        article = ArticleFactory(**live())
        article.topics.add(topic, TopicFactory())
        FAQFactory(**live(), topic=topic)
        VideoFactory(**live()).topics.add(topic)
    parent = PageFactory(**live(slug_es="servicios"))
    PageFactory(**live(slug_es="guia"), pillar_topic=topic, parent=parent)
    path = {
        "topic": url("content:topic-detail", slug="movilidad"),
        "page": url("content:page-detail", path="servicios/guia"),
        "faq": url("content:faq-list"),
    }[name]
    with django_assert_max_num_queries(most):
        assert client.get(path).status_code == 200


# --- News list --------------------------------------------------------------------------------


def test_news_list_is_fresh_after_an_older_article_is_unpublished(
    client: Client, editor: Any
) -> None:
    older = ArticleFactory(**live(title_es="Carril bici en la avenida"))
    ArticleFactory(**live())
    path = url("content:article-list")
    etag = first_visit(client, path)
    html = fresh_after(client, path, etag, lambda: content_unpublish(obj=older, actor=editor))
    assert "Carril bici en la avenida" not in html


def test_topic_page_is_fresh_after_the_topic_is_renamed(client: Client, topic: Any) -> None:
    ArticleFactory(**live()).topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    etag = first_visit(client, path)

    def rename() -> None:
        topic.name_es = "Movilidad sostenible"
        topic.save()

    assert "Movilidad sostenible" in fresh_after(client, path, etag, rename)


def test_renaming_a_topic_in_the_admin_drops_the_cached_pages(
    client: Client,
    topic: Any,
    admin_user: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PUBLIC_PAGE_CACHE_SECONDS = 300
    ArticleFactory(**live()).topics.add(topic)
    path = url("content:topic-detail", slug="movilidad")
    assert "Movilidad" in client.get(path).content.decode()
    staff = Client()
    staff.force_login(admin_user)
    change = reverse("admin:contacts_topic_change", args=[topic.pk])
    form = staff.get(change).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list)
    }
    data.update(name_es="Movilidad sostenible", slug="movilidad", is_public="on")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Movilidad sostenible" in client.get(path).content.decode()
