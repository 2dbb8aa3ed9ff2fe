"""Topic clusters: pillar pages, articles linking back to them, and what citizens see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from content.clusters import (
    articles_missing_backlinks,
    backlinks_report,
    missing_backlinks,
    page_path,
    page_paths,
)
from content.models import Article, Status
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, PageFactory

pytestmark = pytest.mark.django_db


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def url(name: str, language: str = "es", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def topic() -> Any:
    return TopicFactory(slug="movilidad", name_es="Movilidad", name_en="Mobility")


@pytest.fixture
def pillar(topic: Any) -> Any:
    """The mobility guide, live in Spanish and English."""
    return PageFactory(
        **live(),
        title_es="Guía de movilidad",
        slug_es="guia-movilidad",
        title_en="Mobility guide",
        slug_en="mobility-guide",
        pillar_topic=topic,
    )


def article_linking(topic: Any, href: str | None, **fields: Any) -> Article:
    link = f'<a href="{href}">la guía</a>' if href else "la guía"
    article: Article = ArticleFactory(
        **live(), body_es=f"<p>El autobús cambia de horario. Lee {link}.</p>", **fields
    )
    article.topics.add(topic)
    return article


# --- Addresses ---------------------------------------------------------------------------------


def test_pillar_has_an_address_in_each_language_it_is_written_in(pillar: Any) -> None:
    assert page_paths(pillar) == {
        "es": "/es/paginas/guia-movilidad/",
        "en": "/en/pages/mobility-guide/",
    }


def test_a_subpage_is_addressed_through_its_parents_in_that_language(topic: Any) -> None:
    parent = PageFactory(**live(), title_es="Servicios", slug_es="servicios")
    child = PageFactory(
        **live(),
        parent=parent,
        title_es="Guía",
        slug_es="guia",
        title_en="Guide",
        slug_en="guide",
    )

    assert page_path(child, "es") == "/es/paginas/servicios/guia/"
    # The parent is not in English, so neither is the child's address.
    assert page_path(child, "en") is None


def test_languages_the_site_does_not_offer_have_no_address() -> None:
    page = PageFactory(
        **live(), title_es="Guía", slug_es="guia", title_ca="Guia", slug_ca="guia-ca"
    )

    assert page_path(page, "ca") is None


# --- Back-links --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "/es/paginas/guia-movilidad/",
        "/es/paginas/guia-movilidad",
        "/es/paginas/guia-movilidad/?utm_source=boletin#horarios",
        "http://testserver/es/paginas/guia-movilidad/",
        "http://127.0.0.1:8000/es/paginas/guia-movilidad/",
        "/en/pages/mobility-guide/",  # the guide in another language still counts
        "/es/paginas/guia%2Dmovilidad/",
    ],
)
def test_a_link_to_the_pillar_in_any_form_counts(topic: Any, pillar: Any, href: str) -> None:
    assert missing_backlinks(article_linking(topic, href)) == []


@pytest.mark.parametrize(
    "href",
    [None, "https://otra-web.example/es/paginas/guia-movilidad/", "/es/paginas/guia-movilidad-2/"],
)
def test_an_article_without_a_link_to_the_pillar_misses_it(
    topic: Any, pillar: Any, href: str | None
) -> None:
    assert missing_backlinks(article_linking(topic, href)) == [pillar]


def test_each_language_body_is_checked_on_its_own(topic: Any, pillar: Any) -> None:
    article = article_linking(
        topic,
        "/es/paginas/guia-movilidad/",
        title_en="Bus times",
        slug_en="bus-times",
        body_en="<p>The bus timetable changes.</p>",
    )

    assert missing_backlinks(article, "es") == []
    assert missing_backlinks(article, "en") == [pillar]


def test_a_pillar_that_is_not_live_is_not_asked_for(topic: Any) -> None:
    PageFactory(title_es="Borrador", slug_es="borrador", pillar_topic=topic)

    assert missing_backlinks(article_linking(topic, None)) == []


def test_report_lists_live_articles_missing_the_link_per_topic(topic: Any, pillar: Any) -> None:
    linked = article_linking(topic, "/es/paginas/guia-movilidad/")
    unlinked = article_linking(topic, None)
    draft = ArticleFactory(body_es="<p>Sin enlace.</p>")
    draft.topics.add(topic)
    TopicFactory(slug="cultura")  # no pillar, nothing to report

    report = backlinks_report()

    assert [(row.topic, row.pillar, row.articles) for row in report] == [
        (topic, pillar, [unlinked])
    ]
    missing = articles_missing_backlinks(Article.objects.all())
    assert set(missing) == {unlinked.pk, draft.pk}
    assert linked.pk not in missing


def test_report_reads_a_fixed_number_of_queries(
    topic: Any, pillar: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(10):
        article_linking(topic, None)

    with django_assert_max_num_queries(5):
        report = backlinks_report()

    assert len(report[0].articles) == 10


# --- Admin -------------------------------------------------------------------------------------


def _staff_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_changelist_filters_articles_missing_the_pillar_link(
    editor: Any, topic: Any, pillar: Any
) -> None:
    linked = article_linking(topic, "/es/paginas/guia-movilidad/", title_es="Con enlace")
    unlinked = article_linking(topic, None, title_es="Sin enlace")
    changelist = url("admin:content_article_changelist", "en")
    client = _staff_client(editor)

    everything = client.get(changelist).content.decode()
    filtered = client.get(changelist + "?pillar_link=missing").content.decode()

    assert linked.title in everything and unlinked.title in everything
    assert "Links to pillar" in everything
    assert unlinked.title in filtered and linked.title not in filtered


def test_changelist_column_says_whether_each_article_links_its_pillar(
    editor: Any, topic: Any, pillar: Any, django_assert_max_num_queries: Any
) -> None:
    article_linking(topic, "/es/paginas/guia-movilidad/")
    article_linking(topic, None)
    ArticleFactory()  # no topic: nothing to link
    for _ in range(10):
        article_linking(topic, None)
    client = _staff_client(editor)

    with django_assert_max_num_queries(20):
        html = client.get(url("admin:content_article_changelist", "en")).content.decode()

    assert html.count('icon-yes.svg" alt="" width="13" height="13"> Yes') == 1
    assert html.count('icon-no.svg" alt="" width="13" height="13"> No') == 11
    assert '<td class="field-links_to_pillar">—</td>' in html


def test_page_admin_sets_and_lists_the_pillar_topic(editor: Any, topic: Any, pillar: Any) -> None:
    client = _staff_client(editor)

    form = client.get(url("admin:content_page_change", "en", object_id=pillar.pk))
    listing = client.get(url("admin:content_page_changelist", "en")).content.decode()

    assert 'name="pillar_topic"' in form.content.decode()
    assert "Pillar of" in listing
    assert '<td class="field-pillar_of">Mobility</td>' in listing


# --- Public pages ------------------------------------------------------------------------------


def test_pillar_page_lists_the_topics_articles_in_the_current_language(
    client: Client, topic: Any, pillar: Any
) -> None:
    spanish_only = article_linking(topic, None, title_es="Nueva línea de autobús")
    both = article_linking(
        topic, None, title_es="Carril bici", title_en="Cycle lane", slug_en="cycle-lane"
    )
    ArticleFactory(title_es="Borrador de movilidad").topics.add(topic)
    ArticleFactory(**live(), title_es="Otra cosa")

    spanish = client.get(url("content:page-detail", path="guia-movilidad")).content.decode()
    english = client.get(url("content:page-detail", "en", path="mobility-guide")).content.decode()

    with translation.override("en"):
        heading = translation.gettext("Articles on this topic")
    assert heading in english
    assert spanish_only.title_es in spanish and both.title_es in spanish  # type: ignore[attr-defined]
    assert "Borrador de movilidad" not in spanish and "Otra cosa" not in spanish
    assert "Cycle lane" in english and "Nueva línea de autobús" not in english
    assert url("content:topic-detail", "en", slug="movilidad") in english


def test_pillar_page_lists_at_most_twelve_articles_and_links_to_the_topic_for_more(
    client: Client, topic: Any, pillar: Any
) -> None:
    for _ in range(13):
        article_linking(topic, None)

    html = client.get(url("content:page-detail", "en", path="mobility-guide")).content.decode()

    assert html.count('class="card article-card"') == 0  # none is written in English
    html = client.get(url("content:page-detail", path="guia-movilidad")).content.decode()
    assert html.count('class="card article-card"') == 12
    assert f'href="{url("content:topic-detail", slug="movilidad")}"' in html


def test_a_page_that_is_no_pillar_lists_no_articles(client: Client) -> None:
    page = PageFactory(**live())

    response = client.get(url("content:page-detail", path=page.slug_es))

    assert response.status_code == 200
    assert 'id="cluster-heading"' not in response.content.decode()


def test_pillar_page_runs_a_bounded_number_of_queries(
    client: Client, topic: Any, pillar: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(12):
        article_linking(topic, None)

    with django_assert_max_num_queries(6):
        response = client.get(url("content:page-detail", path="guia-movilidad"))

    assert response.content.decode().count('class="card article-card"') == 12


def test_topic_page_links_to_its_live_pillar(client: Client, topic: Any, pillar: Any) -> None:
    spanish = client.get(url("content:topic-detail", slug="movilidad")).content.decode()
    english = client.get(url("content:topic-detail", "en", slug="movilidad")).content.decode()

    assert 'href="/es/paginas/guia-movilidad/"' in spanish
    assert 'href="/en/pages/mobility-guide/"' in english
    with translation.override("en"):
        assert (
            translation.gettext("Read the guide: %(title)s") % {"title": "Mobility guide"}
            in english
        )


def test_topic_page_has_no_pillar_link_when_the_pillar_is_not_live_in_that_language(
    client: Client, topic: Any
) -> None:
    PageFactory(**live(), title_es="Guía", slug_es="guia", pillar_topic=topic)
    other = TopicFactory(slug="cultura")
    PageFactory(title_es="Guía de cultura", slug_es="guia-cultura", pillar_topic=other)

    english = client.get(url("content:topic-detail", "en", slug="movilidad")).content.decode()
    culture = client.get(url("content:topic-detail", slug="cultura")).content.decode()

    assert 'class="notice"' not in english
    assert "guia-cultura" not in culture


# --- Demo --------------------------------------------------------------------------------------


def test_demo_articles_link_back_to_their_pillars_except_two() -> None:
    from content.demo import PILLARS, WITHOUT_PILLAR_LINK, content_demo_seed
    from content.readability import readability_of_html

    content_demo_seed()

    report = backlinks_report()
    unlinked = {article.slug_es for row in report for article in row.articles}  # type: ignore[attr-defined]
    assert unlinked == WITHOUT_PILLAR_LINK
    for pillar in PILLARS:
        result = readability_of_html(pillar.body)
        assert result is not None and result.is_clear, pillar.slug
