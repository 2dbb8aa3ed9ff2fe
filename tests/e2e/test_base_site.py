"""The base public site and the staff login, in a real browser, in Spanish and English."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

LANGUAGES = ["es", "en"]
OTHER_LANGUAGE = {"es": "en", "en": "es"}

# Page name -> URL name (None: a path that does not exist) and the status it must answer with.
PAGES: dict[str, tuple[str | None, int]] = {
    "home": ("home", 200),
    "accessibility": ("accessibility", 200),
    "privacy": ("privacy", 200),
    "not-found": (None, 404),
    "admin-login": ("admin:login", 200),
}


def url_in(language: str, url_name: str | None) -> str:
    if url_name is None:
        return f"/{language}/no-such-page/"
    with translation.override(language):
        return reverse(url_name)


def text_in(language: str, message: str) -> str:
    """What the site shows for `message` in `language`, from the same catalogues it renders."""
    with translation.override(language):
        return translation.gettext(message)


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_wcag_violations_and_declares_its_language(
    page: Page, name: str, language: str
) -> None:
    url_name, status = PAGES[name]
    open_page(page, url_in(language, url_name), status)

    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_skip_link_is_the_first_stop_and_moves_focus_to_main(
    page: Page, site: str, language: str
) -> None:
    open_page(page, url_in(language, "home"))

    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text(text_in(language, "Skip to main content"))
    expect(focused).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{site}{url_in(language, 'home')}#main")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_switcher_opens_the_same_page_in_the_other_language(
    page: Page, site: str, language: str
) -> None:
    other = OTHER_LANGUAGE[language]
    open_page(page, url_in(language, "accessibility"))

    switcher = page.get_by_role("navigation", name=text_in(language, "Language"))
    switcher.get_by_role("link").click()

    expect(page).to_have_url(site + url_in(other, "accessibility"))
    expect(page.locator("html")).to_have_attribute("lang", other)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text_in(other, "Accessibility statement")
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_page_names_the_institution_in_its_main_heading(page: Page, language: str) -> None:
    open_page(page, url_in(language, "home"))

    expect(page.get_by_role("heading", level=1)).to_have_text(settings.INSTITUTION["name"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_footer_links_to_the_accessibility_statement_and_privacy_policy(
    page: Page, language: str
) -> None:
    open_page(page, url_in(language, "home"))
    footer = page.get_by_role("contentinfo")

    for message, url_name in (
        ("Accessibility statement", "accessibility"),
        ("Privacy policy", "privacy"),
    ):
        link = footer.get_by_role("link", name=text_in(language, message), exact=True)
        expect(link).to_have_attribute("href", url_in(language, url_name))


@pytest.mark.parametrize(
    ("language", "heading"), [("es", "Página no encontrada"), ("en", "Page not found")]
)
def test_unknown_page_answers_404_with_a_heading_in_its_language(
    page: Page, language: str, heading: str
) -> None:
    open_page(page, url_in(language, None), 404)

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    home_link = page.get_by_role("link", name=text_in(language, "Go to the home page"))
    expect(home_link).to_have_attribute("href", url_in(language, "home"))


def test_home_and_language_switcher_work_without_javascript(
    page_without_js: Page, site: str
) -> None:
    page = page_without_js
    open_page(page, url_in("es", "home"))
    expect(page.get_by_role("heading", level=1)).to_have_text(settings.INSTITUTION["name"])

    page.get_by_role("navigation", name=text_in("es", "Language")).get_by_role("link").click()

    expect(page).to_have_url(site + url_in("en", "home"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(settings.INSTITUTION["name"])


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_signs_in_through_the_login_form_and_reaches_the_admin(
    page: Page, site: str, editor: Any, language: str
) -> None:
    admin_index = url_in(language, "admin:index")
    open_page(page, admin_index)  # redirects to the login form
    expect(page).to_have_url(f"{site}{url_in(language, 'admin:login')}?next={admin_index}")

    page.get_by_label(text_in(language, "Username")).fill(editor.username)
    page.get_by_label(text_in(language, "Password")).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=text_in(language, "Log in")).click()

    expect(page).to_have_url(site + admin_index)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text_in(language, "Citizen engagement")
    )
    assert_accessible(page)
