"""Content staff pages in a real browser: every one passes axe, in Spanish and English."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from content.revisions import revisions_for
from content.services import content_save
from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_staff_pages import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", ["es", "en"])
def test_content_staff_pages_have_no_wcag_violations(
    page: Page, site: str, editor: Any, language: str
) -> None:
    article = content_save(obj=ArticleFactory.build(body_es="<p>Uno</p>"), actor=editor)
    article.body_es = "<p>Dos</p>"
    content_save(obj=article, actor=editor)
    older = revisions_for(article).last()
    assert older is not None
    faq, video, sub_page = FAQFactory(), VideoFactory(), PageFactory()
    sign_in(page, editor, language)
    with translation.override(language):
        urls = [
            reverse("admin:content_article_changelist"),
            reverse("admin:content_article_add"),
            reverse("admin:content_article_change", args=[article.pk]),
            reverse("admin:content_article_revision_compare", args=[article.pk, older.pk]),
            reverse("admin:content_article_revision_restore", args=[article.pk, older.pk]),
            reverse("admin:content_page_change", args=[sub_page.pk]),
            reverse("admin:content_faq_change", args=[faq.pk]),
            reverse("admin:content_video_change", args=[video.pk]),
        ]
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_rich_text_editor_loads_under_the_content_security_policy(
    page: Page, site: str, editor: Any
) -> None:
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text)
            if "Content Security Policy" in message.text and "script" in message.text
            else None
        ),
    )
    sign_in(page, editor, "es")
    page.goto(reverse("admin:content_article_add"))
    # The editing area is up, and named after its field for screen readers.
    editable = page.locator('#id_body_es >> xpath=.. >> [contenteditable="true"]')
    expect(editable).to_be_visible()
    expect(editable).to_have_attribute("aria-labelledby", "id_body_es-label")
    assert blocked == []
