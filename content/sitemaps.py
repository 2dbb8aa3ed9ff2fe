"""sitemap.xml: every live item in each site language it is written in, with hreflang alternates.

Written by hand rather than with `django.contrib.sitemaps`, which needs the app installed for its
templates; the output is the same protocol (sitemaps.org 0.9 + xhtml:link alternates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.db.models import Max
from django.urls import reverse
from django.utils import translation

from contacts.models import Topic
from content.models import Page
from content.selectors import articles_live, faqs_live, in_language, pages_live, videos_live

X_DEFAULT = "es"


@dataclass
class Entry:
    """One item: its absolute address per language, and when it last changed."""

    urls: dict[str, str] = field(default_factory=dict)
    lastmod: dt.datetime | None = None


def site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _reverse(language: str, name: str, **kwargs: Any) -> str:
    with translation.override(language):
        return absolute(reverse(name, kwargs=kwargs or None))


def _slugged(queryset: Any, url_name: str) -> Iterator[Entry]:
    """Articles and videos: one address per language with a slug and a title in it."""
    entries: dict[int, Entry] = {}
    for language in site_languages():
        for obj in in_language(queryset, language):
            entry = entries.setdefault(obj.pk, Entry(lastmod=obj.updated_at))
            slug = getattr(obj, f"slug_{language}")
            entry.urls[language] = _reverse(language, url_name, slug=slug)
    yield from entries.values()


def _page_path(page: Page, language: str, live: dict[int, Page]) -> str | None:
    """The page's slug path in `language`; None when it or an ancestor is not live there."""
    slugs = []
    for node in [*page.ancestors(), page]:
        if node.pk not in live:
            return None
        slug = getattr(node, f"slug_{language}", "")
        title = getattr(node, f"title_{language}", "")
        if not slug or not title:
            return None
        slugs.append(slug)
    return "/".join(slugs)


def _pages() -> Iterator[Entry]:
    live = {page.pk: page for page in pages_live().select_related("parent")}
    for page in live.values():
        entry = Entry(lastmod=page.updated_at)
        for language in site_languages():
            path = _page_path(page, language, live)
            if path:
                entry.urls[language] = _reverse(language, "content:page-detail", path=path)
        if entry.urls:
            yield entry


def _faq_list() -> Iterator[Entry]:
    entry = Entry()
    for language in site_languages():
        faqs = in_language(faqs_live(), language).filter(topic__is_public=True)
        last = faqs.aggregate(last=Max("updated_at"))["last"]
        if last is not None:
            entry.urls[language] = _reverse(language, "content:faq-list")
            entry.lastmod = max(filter(None, [entry.lastmod, last]))
    if entry.urls:
        yield entry


def _topics() -> Iterator[Entry]:
    """Public topic pages, in every language the topic is named in; lastmod from the newest
    live article or FAQ shown on it (topics themselves keep no timestamp)."""
    for topic in Topic.objects.filter(is_public=True):
        entry = Entry()
        for language in site_languages():
            if not (getattr(topic, f"name_{language}", "") or "").strip():
                continue
            entry.urls[language] = _reverse(language, "content:topic-detail", slug=topic.slug)
            changed = [
                in_language(articles_live(), language)
                .filter(topics=topic)
                .aggregate(last=Max("updated_at"))["last"],
                in_language(faqs_live(), language)
                .filter(topic=topic)
                .aggregate(last=Max("updated_at"))["last"],
            ]
            entry.lastmod = max(filter(None, [entry.lastmod, *changed]), default=None)
        if entry.urls:
            yield entry


def sitemap_entries() -> list[Entry]:
    return [
        *_slugged(articles_live(), "content:article-detail"),
        *_pages(),
        *_faq_list(),
        *_slugged(videos_live(), "content:video-detail"),
        *_topics(),
    ]


def sitemap_xml(entries: list[Entry]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for entry in entries:
        alternates = [
            f'<xhtml:link rel="alternate" hreflang={quoteattr(code)} href={quoteattr(url)}/>'
            for code, url in entry.urls.items()
        ]
        if X_DEFAULT in entry.urls:
            alternates.append(
                '<xhtml:link rel="alternate" hreflang="x-default" '
                f"href={quoteattr(entry.urls[X_DEFAULT])}/>"
            )
        for url in entry.urls.values():
            lines.append("<url>")
            lines.append(f"<loc>{_text(url)}</loc>")
            if entry.lastmod is not None:
                lines.append(
                    f"<lastmod>{entry.lastmod.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}</lastmod>"
                )
            lines.extend(alternates)
            lines.append("</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
