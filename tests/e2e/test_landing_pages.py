"""Landing pages in a real browser: accessible in es and en on desktop and mobile, the form
sent without JavaScript, the gated document downloaded, CTAs in an article."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from conversion.models import CallToAction, LandingPage, Submission
from tests.content.factories import ArticleFactory
from tests.conversion.landing_factories import (
    PDF,
    CallToActionFactory,
    gated_page,
    landing_url,
    live,
    private_in_tmp,  # noqa: F401 -- a fixture
)
from tests.e2e.accessibility import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("private_in_tmp")]

LANGUAGES = ["es", "en"]


@pytest.fixture
def landing(site: str, settings: Any) -> LandingPage:
    settings.CONVERSION_MIN_FILL_SECONDS = 0
    return gated_page()


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


def fill_in(page: Page) -> None:
    page.locator("#id_email").fill("vecina.e2e@correo.example")
    page.locator("#id_nombre").fill("Lucía")


def send(page: Page) -> None:
    page.locator("main button[type=submit]").click()


def test_a_landing_page_form_can_be_sent_without_javascript_and_the_guide_downloaded(
    page_without_js: Page, landing: LandingPage
) -> None:
    page = page_without_js
    open_page(page, landing_url(landing))

    fill_in(page)
    send(page)

    expect(page.get_by_role("status")).to_contain_text("Thank you! Your guide is ready.")
    assert Submission.objects.get().landing_page == landing
    with page.expect_download() as info:
        page.get_by_role("link", name="Download “Rental guide” (PDF)").click()
    download = info.value
    assert download.suggested_filename == "rental-guide.pdf"
    with open(download.path(), "rb") as received:
        assert received.read() == PDF


def _landing_page(page: Page, landing: LandingPage, language: str) -> None:
    open_page(page, landing_url(landing, language=language))


def _errors(page: Page, landing: LandingPage, language: str) -> None:
    open_page(page, landing_url(landing, language=language))
    send(page)
    expect(page.get_by_role("alert")).to_be_visible()


def _thanks(page: Page, landing: LandingPage, language: str) -> None:
    open_page(page, landing_url(landing, language=language))
    fill_in(page)
    send(page)
    expect(page.get_by_role("status")).to_be_visible()


def _invalid_download(page: Page, landing: LandingPage, language: str) -> None:
    with translation.override(language):
        path = reverse("conversion:download", kwargs={"token": "not-a-token"})
    open_page(page, path, status=400)


def _article_with_ctas(page: Page, landing: LandingPage, language: str) -> None:
    banner = CallToActionFactory(landing_page=landing, style=CallToAction.Style.BANNER)
    button = CallToActionFactory(landing_page=landing)
    body = f"<p>Texto.</p><p>[[cta:{banner.name}]]</p><p>[[cta:{button.name}]]</p>"
    article = ArticleFactory(
        **live(title_en="Rental aid", slug_en="rental-aid", body_es=body, body_en=body)
    )
    slug = article.slug_en if language == "en" else article.slug_es
    with translation.override(language):
        path = reverse("content:article-detail", kwargs={"slug": slug})
    open_page(page, path)
    expect(page.locator(".cta .button")).to_have_count(2)


PAGES = {
    "landing": _landing_page,
    "errors": _errors,
    "thanks": _thanks,
    "download-invalid": _invalid_download,
    "article-ctas": _article_with_ctas,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_landing_pages_have_no_wcag_violations(
    page: Page, landing: LandingPage, name: str, language: str
) -> None:
    PAGES[name](page, landing, language)

    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)
