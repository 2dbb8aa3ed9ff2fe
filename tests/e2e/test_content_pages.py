"""The public content pages in a real browser: WCAG 2.1 AA in Spanish and English, desktop and
mobile, and the FAQ accordions working with JavaScript off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from content.models import Status
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, FAQFactory, VideoFactory
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser

LANGUAGES = ["es", "en"]


def _live(**fields: Any) -> dict[str, Any]:
    return {
        "status": Status.PUBLISHED,
        "published_at": timezone.now() - dt.timedelta(hours=1),
        **fields,
    }


@pytest.fixture
def content(site: str) -> dict[str, str]:
    """A topic with an article (in both languages), a FAQ and a video, all live."""
    topic = TopicFactory(slug="movilidad", name_es="Movilidad", name_en="Mobility")
    article = ArticleFactory(
        **_live(title_en="New bus lines", slug_en="new-bus-lines", summary_en="Three new lines.")
    )
    article.topics.add(topic)
    related = ArticleFactory(**_live(title_en="Bike lanes", slug_en="bike-lanes"))
    related.topics.add(topic)
    FAQFactory(
        **_live(question_en="How do I register?", answer_en="<p>Ask for an appointment.</p>"),
        topic=topic,
    )
    video = VideoFactory(
        **_live(title_en="Sorting waste", slug_en="sorting-waste", transcript_en="Hello.")
    )
    return {
        "es-article": article.slug_es,
        "en-article": "new-bus-lines",
        "es-video": video.slug_es,
        "en-video": "sorting-waste",
    }


def _url(language: str, name: str, **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def _pages(language: str, content: dict[str, str]) -> dict[str, str]:
    return {
        "article-list": _url(language, "content:article-list"),
        "article-detail": _url(
            language, "content:article-detail", slug=content[f"{language}-article"]
        ),
        "topic": _url(language, "content:topic-detail", slug="movilidad"),
        "faq": _url(language, "content:faq-list"),
        "video": _url(language, "content:video-detail", slug=content[f"{language}-video"]),
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["article-list", "article-detail", "topic", "faq", "video"])
def test_content_page_has_no_wcag_violations(
    page: Page, content: dict[str, str], name: str, language: str
) -> None:
    # Third-party players are not loaded in tests (no network): block them so axe only
    # judges our own markup and the iframe's title.
    page.route("https://www.youtube-nocookie.com/**", lambda route: route.abort())
    response = page.goto(_pages(language, content)[name])
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)


def test_faq_answer_opens_without_javascript(
    page_without_js: Page, content: dict[str, str]
) -> None:
    page_without_js.goto(_url("es", "content:faq-list"))
    answer = page_without_js.get_by_text("Pide cita previa en la Oficina de Atención Ciudadana.")
    expect(answer).to_be_hidden()
    page_without_js.get_by_text("¿Cómo me empadrono?").click()
    expect(answer).to_be_visible()
