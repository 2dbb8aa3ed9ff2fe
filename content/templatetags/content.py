"""Content for other apps' templates (the home page), without them importing `content`."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils.html import _json_script_escapes  # type: ignore[attr-defined]
from django.utils.safestring import SafeString, mark_safe

from contacts.models import Topic
from content.blocks import blocks_render
from content.clusters import Cluster, PillarLink, pillar_cluster, topic_pillar_link
from content.models import Article, Page
from content.selectors import article_cards_live, in_language

register = template.Library()


@register.simple_tag
def featured_articles(count: int = 3) -> list[Article]:
    """The newest live articles staff marked as featured, in the current language."""
    return list(in_language(article_cards_live()).filter(featured=True)[:count])


@register.simple_tag
def latest_articles_except(shown: list[Article], count: int = 3) -> list[Article]:
    """The newest live articles in the current language, leaving out those already `shown`."""
    return list(
        in_language(article_cards_live()).exclude(pk__in=[article.pk for article in shown])[:count]
    )


@register.simple_tag
def featured_topics(per_topic: int = 1) -> list[Topic]:
    """Public topics that have live articles, each with its newest (`topic.featured`).

    Two queries whatever the number of topics: the prefetch is sliced per topic (a window
    function), and reads only the links' columns.
    """
    live = in_language(Article.objects.live())
    newest = in_language(Article.objects.live()).only("id", "slug", "title")[:per_topic]
    return list(
        Topic.objects.filter(is_public=True, articles__in=live)
        .distinct()
        .only("id", "slug", "name")
        .prefetch_related(Prefetch("articles", queryset=newest, to_attr="featured"))
    )


@register.filter
def json_ld(data: Any) -> SafeString:
    """A `<script type="application/ld+json">` data block, escaped like `json_script`.

    Browsers do not execute this type, so the CSP's script-src does not apply to it.
    """
    text = json.dumps(data, cls=DjangoJSONEncoder).translate(_json_script_escapes)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


@register.simple_tag
def cluster_of(page: Page) -> Cluster | None:
    """A pillar page's topic and its newest live articles in the current language."""
    return pillar_cluster(page)


@register.simple_tag
def pillar_of(topic: Topic) -> PillarLink | None:
    """The topic's pillar page, when it is live in the current language."""
    return topic_pillar_link(topic)


@register.filter
def render_blocks(html: str) -> SafeString:
    """Rich text with its `[[name:key]]` paragraphs rendered by other apps' blocks."""
    return blocks_render(html)
