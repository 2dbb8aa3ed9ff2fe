"""Content reads."""

from __future__ import annotations

from django.db.models import QuerySet

from content.models import FAQ, Article, Page, Video


def articles_live() -> QuerySet[Article]:
    return Article.objects.live().prefetch_related("topics")


def pages_live() -> QuerySet[Page]:
    return Page.objects.live()


def faqs_live() -> QuerySet[FAQ]:
    return FAQ.objects.live().select_related("topic")


def videos_live() -> QuerySet[Video]:
    return Video.objects.live()
