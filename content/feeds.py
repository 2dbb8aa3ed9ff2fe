"""RSS 2.0 and Atom feeds of the live articles, in the current language, global and per topic.

Only articles written in the feed's language are listed (as on the list pages), and every
address is absolute from `settings.SITE_URL`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.models import Topic
from content.models import Article
from content.selectors import articles_live, in_language

FEED_ITEMS = 20


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _topic(obj: Topic | None) -> Topic:
    """The topic of a topic feed (`get_object` always finds one or raises a 404)."""
    if obj is None:
        raise Http404
    return obj


class ArticlesRssFeed(Feed):  # type: ignore[type-arg]
    """The latest live articles (the feed's language is the active one: `language` is unset)."""

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "public, max-age=900"
        return response

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Topic | None:
        return None

    def title(self, obj: Topic | None) -> str:
        return f"{_('News')} · {settings.INSTITUTION['name']}"

    def description(self, obj: Topic | None) -> str:
        return _("The latest news from %(name)s.") % {"name": settings.INSTITUTION["name"]}

    def link(self, obj: Topic | None) -> str:
        return _absolute(reverse("content:article-list"))

    def feed_url(self, obj: Topic | None) -> str:
        return _absolute(reverse("content:article-feed-rss"))

    def items(self, obj: Topic | None) -> QuerySet[Article]:
        articles = in_language(articles_live())
        if obj is not None:
            articles = articles.filter(topics=obj)
        return articles.order_by("-published_at", "-id")[:FEED_ITEMS]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        # Feed readers treat the description (RSS) and the `type="html"` summary (Atom) as
        # HTML: the plain-text summary must arrive escaped, or a `<svg onload>` in it would run.
        return escape(item.summary or item.meta_description or "")

    def item_link(self, item: Article) -> str:
        slug = getattr(item, f"slug_{get_language()}")
        return _absolute(reverse("content:article-detail", kwargs={"slug": slug}))

    def item_pubdate(self, item: Article) -> dt.datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> dt.datetime:
        return item.updated_at

    def item_author_name(self, item: Article) -> str | None:
        return item.byline or None

    def item_categories(self, item: Article) -> list[str]:
        return [topic.name for topic in item.topics.all()]


class ArticlesAtomFeed(ArticlesRssFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: Topic | None) -> str:
        return self.description(obj)

    def feed_url(self, obj: Topic | None) -> str:
        return _absolute(reverse("content:article-feed-atom"))


class TopicRssFeed(ArticlesRssFeed):
    """The latest live articles on one public topic."""

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Topic | None:
        return get_object_or_404(Topic, slug=kwargs["slug"], is_public=True)

    def title(self, obj: Topic | None) -> str:
        obj = _topic(obj)
        return f"{obj.name} · {settings.INSTITUTION['name']}"

    def description(self, obj: Topic | None) -> str:
        obj = _topic(obj)
        return obj.description or _("The latest news on %(topic)s.") % {"topic": obj.name}

    def link(self, obj: Topic | None) -> str:
        obj = _topic(obj)
        return _absolute(reverse("content:topic-detail", kwargs={"slug": obj.slug}))

    def feed_url(self, obj: Topic | None) -> str:
        obj = _topic(obj)
        return _absolute(reverse("content:topic-feed-rss", kwargs={"slug": obj.slug}))


class TopicAtomFeed(TopicRssFeed):
    feed_type = Atom1Feed

    def subtitle(self, obj: Topic | None) -> str:
        return self.description(obj)

    def feed_url(self, obj: Topic | None) -> str:
        obj = _topic(obj)
        return _absolute(reverse("content:topic-feed-atom", kwargs={"slug": obj.slug}))
