"""Topic clusters: each topic's pillar page and the articles that should link back to it.

A pillar page is a `Page` with `pillar_topic` set: the long guide on one topic. The topic's
articles are its cluster: the pillar lists them, and each of them is expected to link to the
pillar, so readers (and search engines) find the guide from any article of the topic.

A link counts as a back-link when its path is the pillar's path in any site language,
whatever its scheme, host (ours), trailing slash, query or fragment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http.request import validate_host
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language

from contacts.models import Topic
from content.models import Article, Page
from content.selectors import in_language

SOURCE_LANGUAGE = "es"
CLUSTER_MAX = 12  # articles listed on a pillar page; the topic page lists them all


# --- Addresses ---------------------------------------------------------------------------------


def page_path(page: Page, language: str) -> str | None:
    """The public address of `page` in `language`, or None when the site is not offered in
    that language or the page or one of its ancestors is not written in it (the public site
    would answer 404)."""
    if language not in dict(settings.LANGUAGES):
        return None
    chain = [*page.ancestors(), page]
    slugs = [getattr(node, f"slug_{language}", "") for node in chain]
    titles = [getattr(node, f"title_{language}", "") for node in chain]
    if not all(slugs) or not all(titles):
        return None
    with translation.override(language):
        return reverse("content:page-detail", kwargs={"path": "/".join(slugs)})


def page_paths(page: Page) -> dict[str, str]:
    """The public address of `page` in each site language it is written in."""
    paths = {code: page_path(page, code) for code, _name in settings.LANGUAGES}
    return {code: path for code, path in paths.items() if path}


def _own_hosts() -> list[str]:
    hosts = [host for host in settings.ALLOWED_HOSTS if host != "*"]
    site_host = urlsplit(getattr(settings, "SITE_URL", "")).hostname
    return [*hosts, site_host] if site_host else hosts


def is_internal(href: str) -> bool:
    """Whether a link stays on this site: a root-relative path, or an absolute address on one
    of the site's own hosts (SITE_URL, ALLOWED_HOSTS)."""
    href = href.strip()
    if href.startswith("/") and not href.startswith("//"):
        return True
    try:
        parts = urlsplit(href)
        host = parts.hostname
    except ValueError:  # a malformed address (e.g. an unclosed IPv6 bracket)
        return False
    if parts.scheme not in {"http", "https", ""} or not host:
        return False
    return validate_host(host, _own_hosts())


def _comparable(path: str) -> str:
    return unquote(path).rstrip("/") or "/"


def link_path(href: str) -> str | None:
    """The path an internal link points to, comparable with a page's path; None if external."""
    if not is_internal(href):
        return None
    return _comparable(urlsplit(href.strip()).path)


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def linked_paths(html: str) -> set[str]:
    """The paths of every internal link in an HTML fragment."""
    collector = _LinkCollector()
    collector.feed(html or "")
    collector.close()
    return {path for path in map(link_path, collector.hrefs) if path is not None}


# --- Pillars and back-links --------------------------------------------------------------------


def topic_pillar(topic: Topic) -> Page | None:
    """The topic's live pillar page, if it has one (no query when `pillar_page` was
    select_related)."""
    try:
        page: Page = topic.pillar_page
    except ObjectDoesNotExist:
        return None
    return page if page.is_live else None


def topics_pillars(topics: Iterable[Topic]) -> list[Page]:
    """The live pillar pages of `topics`."""
    pillars = (topic_pillar(topic) for topic in topics)
    return [pillar for pillar in pillars if pillar is not None]


def _pillar_paths(pillar: Page) -> set[str]:
    return {_comparable(path) for path in page_paths(pillar).values()}


def pillars_missing(*, topics: Iterable[Topic], body_html: str) -> list[Page]:
    """The live pillar pages of `topics` that `body_html` does not link to."""
    paths = linked_paths(body_html)
    return [pillar for pillar in topics_pillars(topics) if not _pillar_paths(pillar) & paths]


def missing_backlinks(article: Article, language: str = SOURCE_LANGUAGE) -> list[Page]:
    """The pillar pages of the article's topics that its body (in `language`) does not link to."""
    topics = article.topics.select_related("pillar_page__parent") if article.pk else []
    return pillars_missing(topics=topics, body_html=getattr(article, f"body_{language}", ""))


def _live_pillars() -> dict[int, Page]:
    """Every live pillar page by its topic id."""
    pillars = Page.objects.live().filter(pillar_topic__isnull=False).select_related("parent")
    return {page.pillar_topic_id: page for page in pillars}  # type: ignore[misc]


def articles_missing_backlinks(articles: QuerySet[Article]) -> dict[int, list[Page]]:
    """For the `articles` whose Spanish body misses a pillar of their topics: id → pillars.

    A fixed number of queries whatever the number of articles (pillars, bodies, topics).
    """
    pillars = _live_pillars()
    if not pillars:
        return {}
    pillar_paths = {topic_id: _pillar_paths(page) for topic_id, page in pillars.items()}
    candidates = articles.filter(topics__in=list(pillars)).distinct()
    bodies = dict(candidates.values_list("pk", f"body_{SOURCE_LANGUAGE}"))
    topic_ids: dict[int, list[int]] = defaultdict(list)
    through = Article.topics.through.objects.filter(article_id__in=list(bodies))
    for article_id, topic_id in through.values_list("article_id", "topic_id"):
        topic_ids[article_id].append(topic_id)
    missing: dict[int, list[Page]] = {}
    for article_id, body in bodies.items():
        paths = linked_paths(body or "")
        lacking = [
            pillars[topic_id]
            for topic_id in topic_ids[article_id]
            if topic_id in pillars and not (pillar_paths[topic_id] & paths)
        ]
        if lacking:
            missing[article_id] = lacking
    return missing


@dataclass(frozen=True)
class TopicBacklinks:
    """One topic's pillar and its live articles that do not link to it."""

    topic: Topic
    pillar: Page
    articles: list[Article]


def backlinks_report() -> list[TopicBacklinks]:
    """Per topic with a live pillar, the live articles whose Spanish body misses the link."""
    missing = articles_missing_backlinks(Article.objects.live())
    articles: dict[int, Article] = Article.objects.in_bulk(list(missing))  # type: ignore[assignment]
    by_topic: dict[int, list[Article]] = defaultdict(list)
    pillars: dict[int, Page] = {}
    for article_id, lacking in missing.items():
        for pillar in lacking:
            topic_id: int = pillar.pillar_topic_id  # type: ignore[assignment]
            by_topic[topic_id].append(articles[article_id])
            pillars[topic_id] = pillar
    topics = Topic.objects.in_bulk(list(by_topic))
    return [
        TopicBacklinks(topic=topics[topic_id], pillar=pillars[topic_id], articles=found)
        for topic_id, found in sorted(by_topic.items(), key=lambda item: topics[item[0]].order)
    ]


# --- On the public site ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """What a pillar page lists: its topic's newest live articles in the current language."""

    topic: Topic
    articles: list[Article]
    has_more: bool


def pillar_cluster(page: Page, count: int = CLUSTER_MAX) -> Cluster | None:
    """The cluster a pillar page lists after its body (None for a page that is no pillar)."""
    topic = page.pillar_topic
    if topic is None:
        return None
    articles = list(in_language(Article.objects.live()).filter(topics=topic)[: count + 1])
    return Cluster(topic=topic, articles=articles[:count], has_more=len(articles) > count)


@dataclass(frozen=True)
class PillarLink:
    title: str
    url: str


def topic_pillar_link(topic: Topic) -> PillarLink | None:
    """The topic's pillar page, if it is live and written in the current language."""
    language = get_language()
    page = (
        in_language(Page.objects.live(), language)
        .filter(pillar_topic=topic)
        .select_related("parent")
        .first()
    )
    url = page_path(page, language) if page is not None else None
    return PillarLink(title=page.title, url=url) if page is not None and url else None
