"""sitemap.xml, robots.txt and the RSS/Atom feeds of live articles."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone, translation

from content.models import Status
from inbound import urls as inbound_urls
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory

# Until the lead includes `content.urls_root` in `inbound/urls.py`, these tests add it here.
urlpatterns = [path("", include("content.urls_root")), *inbound_urls.urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SITE = "https://ayto.example.org"
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "xhtml": "http://www.w3.org/1999/xhtml",
    "atom": "http://www.w3.org/2005/Atom",
}


@pytest.fixture(autouse=True)
def _site_url(settings: Any) -> None:
    settings.SITE_URL = SITE


def live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


def parse(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 -- our own response, not untrusted input


def url(name: str, language: str = "es", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def sitemap(client: Client) -> dict[str, ET.Element]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = parse(response.content)
    return {node.findtext("sm:loc", namespaces=NS) or "": node for node in root}


# --- sitemap.xml -------------------------------------------------------------------------------


def test_sitemap_lists_live_items_per_language_with_lastmod_and_alternates(client: Client) -> None:
    both = ArticleFactory(**live(title_en="Library hours", slug_en="library-hours"))
    spanish = ArticleFactory(**live())
    draft = ArticleFactory()
    scheduled = ArticleFactory(
        status=Status.PUBLISHED, published_at=timezone.now() + dt.timedelta(days=1)
    )
    parent = PageFactory(**live(title_en="Services", slug_en="services"))
    child = PageFactory(**live(parent=parent))
    hidden_parent = PageFactory()
    orphan = PageFactory(**live(parent=hidden_parent))
    video = VideoFactory(**live())
    FAQFactory(**live(topic=TopicFactory(slug="padron", name_es="Padrón", name_en="")))

    urls = sitemap(client)

    es = SITE + url("content:article-detail", slug=both.slug_es)
    en = SITE + url("content:article-detail", "en", slug="library-hours")
    assert es in urls and en in urls
    node = urls[es]
    assert node.findtext("sm:lastmod", namespaces=NS) == both.updated_at.astimezone(
        dt.UTC
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    links = {
        link.get("hreflang"): link.get("href") for link in node.findall("xhtml:link", namespaces=NS)
    }
    assert links == {"es": es, "en": en, "x-default": es}

    assert SITE + url("content:article-detail", slug=spanish.slug_es) in urls
    assert SITE + url("content:article-detail", "en", slug=spanish.slug_es) not in urls
    for hidden in (draft, scheduled):
        assert not any(hidden.slug_es in loc for loc in urls)

    assert SITE + url("content:page-detail", path=parent.slug_es) in urls
    assert SITE + url("content:page-detail", "en", path="services") in urls
    assert SITE + url("content:page-detail", path=f"{parent.slug_es}/{child.slug_es}") in urls
    assert not any(orphan.slug_es in loc for loc in urls)
    assert SITE + url("content:video-detail", slug=video.slug_es) in urls
    assert SITE + url("content:faq-list") in urls
    assert SITE + url("content:faq-list", "en") not in urls
    assert SITE + url("content:topic-detail", slug="padron") in urls
    assert SITE + url("content:topic-detail", "en", slug="padron") not in urls
    assert urls[SITE + url("content:topic-detail", slug="padron")].findtext(
        "sm:lastmod", namespaces=NS
    )


def test_sitemap_leaves_out_private_topics(client: Client) -> None:
    TopicFactory(slug="interno", is_public=False)
    assert not any("interno" in loc for loc in sitemap(client))


# --- robots.txt --------------------------------------------------------------------------------


def test_robots_txt(client: Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for disallowed in (
        "/es/admin/",
        "/en/admin/",
        "/api/",
        "/es/staff/",
        "/en/staff/",
        url("content:preview", token="x").removesuffix("x/"),
        url("contacts_public:preferences-request"),
        url("contacts_public:preferences-request", "en"),
    ):
        assert f"Disallow: {disallowed}" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


# --- Feeds -------------------------------------------------------------------------------------


def rss_items(client: Client, address: str) -> tuple[ET.Element, list[ET.Element]]:
    response = client.get(address)
    assert response.status_code == 200
    assert "rss+xml" in response["Content-Type"]
    channel = parse(response.content).find("channel")
    assert channel is not None
    return channel, channel.findall("item")


def test_rss_feed_lists_live_articles_only(client: Client) -> None:
    topic = TopicFactory(slug="cultura", name_es="Cultura")
    article = ArticleFactory(**live(byline="Ana"))
    article.topics.add(topic)
    ArticleFactory(title_es="Borrador secreto")
    ArticleFactory(
        title_es="Programado secreto",
        status=Status.PUBLISHED,
        published_at=timezone.now() + dt.timedelta(days=1),
    )

    channel, items = rss_items(client, url("content:article-feed-rss"))

    assert channel.findtext("language") == "es"
    assert [item.findtext("title") for item in items] == [article.title_es]
    item = items[0]
    assert item.findtext("link") == SITE + url("content:article-detail", slug=article.slug_es)
    assert item.findtext("description") == article.summary_es
    assert item.findtext("pubDate")
    assert [c.text for c in item.findall("category")] == ["Cultura"]


def test_rss_feed_keeps_the_twenty_latest(client: Client) -> None:
    now = timezone.now()
    for hours in range(1, 23):
        ArticleFactory(status=Status.PUBLISHED, published_at=now - dt.timedelta(hours=hours))
    _channel, items = rss_items(client, url("content:article-feed-rss"))
    assert len(items) == 20


def test_feeds_are_per_language(client: Client) -> None:
    ArticleFactory(**live(title_en="Library hours", slug_en="library-hours", summary_en="Longer."))
    spanish_only = ArticleFactory(**live())

    channel, items = rss_items(client, url("content:article-feed-rss", "en"))

    assert channel.findtext("language") == "en"
    assert [item.findtext("title") for item in items] == ["Library hours"]
    assert items[0].findtext("link") == SITE + url(
        "content:article-detail", "en", slug="library-hours"
    )
    _channel, es_items = rss_items(client, url("content:article-feed-rss"))
    assert spanish_only.title_es in [item.findtext("title") for item in es_items]


def test_atom_feed(client: Client) -> None:
    article = ArticleFactory(**live())
    response = client.get(url("content:article-feed-atom", "es"))
    assert response.status_code == 200
    assert "atom+xml" in response["Content-Type"]
    feed = parse(response.content)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    entries = feed.findall("atom:entry", NS)
    assert [entry.findtext("atom:title", namespaces=NS) for entry in entries] == [article.title_es]
    link = entries[0].find("atom:link", NS)
    assert link is not None
    assert link.get("href") == SITE + url("content:article-detail", slug=article.slug_es)


def test_topic_feeds_filter_by_topic(client: Client) -> None:
    culture = TopicFactory(slug="cultura")
    sport = TopicFactory(slug="deporte")
    on_culture = ArticleFactory(**live())
    on_culture.topics.add(culture)
    ArticleFactory(**live()).topics.add(sport)

    _channel, items = rss_items(client, url("content:topic-feed-rss", slug="cultura"))
    assert [item.findtext("title") for item in items] == [on_culture.title_es]

    atom = parse(client.get(url("content:topic-feed-atom", slug="cultura")).content)
    assert [e.findtext("atom:title", namespaces=NS) for e in atom.findall("atom:entry", NS)] == [
        on_culture.title_es
    ]


def test_topic_feed_of_a_private_or_unknown_topic_is_404(client: Client) -> None:
    TopicFactory(slug="interno", is_public=False)
    assert client.get(url("content:topic-feed-rss", slug="interno")).status_code == 404
    assert client.get(url("content:topic-feed-rss", slug="nada")).status_code == 404
