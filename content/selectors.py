"""Content reads."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from content.models import FAQ, Article, Page, Video


def articles_all() -> QuerySet[Article]:
    """Every article, whatever its status (staff views)."""
    # The manager is declared on the abstract Publishable, which is the model the stubs see.
    return cast("QuerySet[Article]", Article.objects.all())


def articles_live() -> QuerySet[Article]:
    return Article.objects.live().prefetch_related("topics")


# What an article card (`content/_article_card.html`) shows: no body in any language, the widest
# columns, and no topics.
CARD_FIELDS = ("id", "slug", "title", "summary", "published_at")


def article_cards_live() -> QuerySet[Article]:
    """Live articles with only the columns their cards show."""
    return cast("QuerySet[Article]", Article.objects.live().only(*CARD_FIELDS))


def pages_live() -> QuerySet[Page]:
    return Page.objects.live()


def faqs_live() -> QuerySet[FAQ]:
    return FAQ.objects.live().select_related("topic")


def videos_live() -> QuerySet[Video]:
    return Video.objects.live()


def in_language(queryset: QuerySet[Any], language: str | None = None) -> QuerySet[Any]:
    """Only the items written in `language` (the current one by default)."""
    language = language or get_language()
    title = "question" if queryset.model is FAQ else "title"
    if queryset.model is FAQ:
        return queryset.exclude(**{f"{title}_{language}": ""}).exclude(
            **{f"{title}_{language}__isnull": True}
        )
    return queryset.exclude(
        Q(**{f"{title}_{language}": ""})
        | Q(**{f"{title}_{language}__isnull": True})
        | Q(**{f"slug_{language}": ""})
        | Q(**{f"slug_{language}__isnull": True})
    )
