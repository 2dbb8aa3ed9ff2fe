"""The SEO checklist and topic clusters in a real browser: the checklist follows the editor's
typing without saving, and the pages involved pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from content.models import Status
from tests.contacts.factories import TopicFactory
from tests.content.factories import ArticleFactory, PageFactory
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in

pytestmark = pytest.mark.browser

LANGUAGES = ["es", "en"]


def _live() -> dict[str, Any]:
    return {"status": Status.PUBLISHED, "published_at": timezone.now() - dt.timedelta(hours=1)}


def _url(language: str, name: str, *args: Any, **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(name, args=args or None, kwargs=kwargs or None)


def _text(language: str, message: str, **values: Any) -> str:
    with translation.override(language):
        text = translation.gettext(message)
    return text % values if values else text


@pytest.fixture
def cluster(site: str) -> None:
    """The mobility topic, its pillar guide and one article, all live in Spanish and English."""
    topic = TopicFactory(slug="movilidad", name_es="Movilidad", name_en="Mobility")
    PageFactory(
        **_live(),
        title_es="Guía de movilidad",
        slug_es="guia-movilidad",
        body_es="<p>Cómo moverse por la ciudad.</p><h2>Autobús</h2><p>Hay cuatro líneas.</p>",
        title_en="Mobility guide",
        slug_en="mobility-guide",
        body_en="<p>Getting around town.</p><h2>Buses</h2><p>There are four lines.</p>",
        pillar_topic=topic,
    )
    article = ArticleFactory(
        **_live(),
        title_en="New bus lines",
        slug_en="new-bus-lines",
        summary_en="Three new lines.",
    )
    article.topics.add(topic)


def _public_pages(language: str) -> dict[str, str]:
    pillar_path = "guia-movilidad" if language == "es" else "mobility-guide"
    return {
        "pillar": _url(language, "content:page-detail", path=pillar_path),
        "topic": _url(language, "content:topic-detail", slug="movilidad"),
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["pillar", "topic"])
def test_cluster_pages_have_no_wcag_violations(
    page: Page, cluster: None, name: str, language: str
) -> None:
    response = page.goto(_public_pages(language)[name])

    assert response is not None and response.status == 200
    if name == "pillar":
        expect(page.locator("#cluster-heading")).to_have_text(
            _text(language, "Articles on this topic")
        )
    else:
        guide = "Guía de movilidad" if language == "es" else "Mobility guide"
        expect(page.get_by_role("link", name=guide)).to_be_visible()
    assert_accessible(page)


def test_pillar_page_lists_its_articles_without_javascript(
    page_without_js: Page, cluster: None
) -> None:
    page_without_js.goto(_public_pages("en")["pillar"])

    page_without_js.get_by_role("link", name="New bus lines").click()

    expect(page_without_js.locator("h1")).to_have_text("New bus lines")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_checklist_follows_the_editor_typing_without_saving(
    page: Page, site: str, editor: Any, language: str
) -> None:
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "script-src" in message.text else None,
    )
    article = ArticleFactory(title_es="Las piscinas municipales abren el 15 de junio")
    sign_in(page, editor, language)
    page.goto(_url(language, "admin:content_article_change", article.pk))
    results = page.locator("#seo-checklist-results")
    expect(results).to_contain_text(
        _text(language, "Add a focus keyword: the words citizens would type to find this article.")
    )

    page.locator("#id_focus_keyword_es").fill("piscinas")

    expect(results).to_contain_text(
        _text(language, "Focus keyword: “%(keyword)s”.", keyword="piscinas")
    )
    expect(page.locator("#seo-es-keyword_title")).to_have_attribute("data-level", "ok")
    expect(page.locator("#seo-es-keyword_intro")).to_have_attribute("data-level", "warning")

    # Typing in the rich-text editor counts too.
    editable = page.locator('#id_body_es >> xpath=.. >> [contenteditable="true"]')
    editable.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("Las piscinas abren en junio. ")

    expect(page.locator("#seo-es-keyword_intro")).to_have_attribute("data-level", "ok")
    expect(page.locator("#seo-es-keyword_intro")).to_contain_text(
        _text(language, "The focus keyword appears in the first paragraph.")
    )
    article.refresh_from_db()
    assert not article.focus_keyword_es  # type: ignore[attr-defined]
    assert blocked == []
    assert_accessible(page)
