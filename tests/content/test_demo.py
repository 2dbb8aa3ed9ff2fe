"""The demo content: realistic, live, translated in part, and safe to seed twice."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contacts.models import Topic
from content.demo import ARTICLES, FAQS, PAGES, PILLARS, TOPICS, VIDEOS, content_demo_seed
from content.models import FAQ, Article, Page, Video
from content.selectors import articles_live, faqs_live, in_language, pages_live, videos_live
from content.validators import video_embed_error

pytestmark = pytest.mark.django_db


def test_seed_creates_live_articles_pages_faqs_and_videos() -> None:
    created = content_demo_seed()

    assert created == len(ARTICLES) + len(PAGES) + len(PILLARS) + len(FAQS) + len(VIDEOS)
    assert len(ARTICLES) >= 20 and len(FAQS) >= 12 and len(VIDEOS) == 2
    assert 2 <= len(PAGES) <= 3 and len(PILLARS) == len(TOPICS)
    assert articles_live().count() == Article.objects.count() == len(ARTICLES)
    assert pages_live().count() == Page.objects.count() == len(PAGES) + len(PILLARS)
    assert faqs_live().count() == FAQ.objects.count() == len(FAQS)
    assert videos_live().count() == Video.objects.count() == len(VIDEOS)
    assert Page.objects.filter(parent__slug_es="sede-electronica").exists()


def test_seed_covers_every_topic_and_creates_missing_topics() -> None:
    content_demo_seed()

    slugs = {slug for slug, _es, _en in TOPICS}
    assert set(Topic.objects.values_list("slug", flat=True)) == slugs
    assert set(Article.objects.values_list("topics__slug", flat=True)) == slugs
    assert set(FAQ.objects.values_list("topic__slug", flat=True)) == slugs
    assert set(Page.objects.values_list("pillar_topic__slug", flat=True)) == slugs | {None}
    assert set(Video.objects.values_list("topics__slug", flat=True)) <= slugs


def test_articles_have_seo_fields_and_dates_over_six_months() -> None:
    content_demo_seed()

    dates = []
    for article in Article.objects.all():
        assert article.byline and article.focus_keyword_es  # type: ignore[attr-defined]
        assert 50 <= len(article.meta_description_es) <= 160, article.slug  # type: ignore[attr-defined]
        assert "<h2>" in article.body_es and '<a href="/es/' in article.body_es  # type: ignore[attr-defined]
        assert article.published_at is not None
        dates.append(article.published_at)
    assert (max(dates) - min(dates)).days >= 150
    for page in Page.objects.all():
        assert 50 <= len(page.meta_description_es) <= 160  # type: ignore[attr-defined]


def test_videos_use_the_privacy_enhanced_player_with_a_transcript() -> None:
    content_demo_seed()

    for video in Video.objects.all():
        assert video.embed_url.startswith("https://www.youtube-nocookie.com/embed/")
        assert video_embed_error(video.provider, video.embed_url) is None
        assert len(video.transcript_es.split()) > 80  # type: ignore[attr-defined]
        assert video.publish_problems() == []


def test_some_articles_are_live_in_english_and_catalan() -> None:
    content_demo_seed()

    assert in_language(articles_live(), "en").count() >= 2
    assert in_language(articles_live(), "ca").count() >= 1


def test_seed_is_idempotent() -> None:
    first = content_demo_seed()

    assert first > 0
    assert content_demo_seed() == 0
    assert Article.objects.count() == len(ARTICLES)
    assert FAQ.objects.count() == len(FAQS)


def test_article_list_shows_the_demo_articles(client: Client) -> None:
    content_demo_seed()

    with translation.override("es"):
        path = reverse("content:article-list")
    assert path == "/es/noticias/"
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    newest = sorted(ARTICLES, key=lambda item: item.days_ago)[:3]
    for item in newest:
        assert item.title in html


def test_english_article_list_shows_the_translated_titles(client: Client) -> None:
    content_demo_seed()

    with translation.override("en"):
        path = reverse("content:article-list")
    html = client.get(path).content.decode()
    assert "The new cycle lane on Avenida del Río opens on 1 March" in html
