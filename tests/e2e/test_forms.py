"""Public forms in a real browser: accessible in es and en, usable with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from conversion import services
from conversion.models import Form, Submission
from tests.conversion.test_public_forms import SUCCESS, confirm_url, demo_like_form, form_url
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser

LANGUAGES = ["es", "en"]


def text_in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def form(site: str, settings: Any) -> Form:
    settings.CONVERSION_MIN_FILL_SECONDS = 0
    return demo_like_form()


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


def fill_in(page: Page, language: str) -> None:
    page.get_by_role("textbox", name="Email").fill("vecina.e2e@correo.example")
    page.get_by_label("First name").fill("Lucía")
    page.get_by_label("Postal code").fill("28999")
    page.get_by_role("group", name="Topics that interest you").get_by_label("Movilidad").check()
    page.locator("#id_newsletter").check()


def send(page: Page, language: str) -> None:
    label = "Subscribe" if language == "en" else text_in(language, "Send")
    page.get_by_role("button", name=label).click()


def submission() -> Submission:
    return Submission.objects.get()


def test_the_form_can_be_sent_without_javascript(page_without_js: Page, form: Form) -> None:
    page = page_without_js
    open_page(page, form_url(form))

    fill_in(page, "en")
    send(page, "en")

    expect(page.get_by_role("status")).to_contain_text(SUCCESS)
    assert page.url.endswith(form_url(form, "thanks"))
    assert submission().values["first_name"] == "Lucía"


def test_errors_without_javascript_are_listed_and_linked(page_without_js: Page, form: Form) -> None:
    page = page_without_js
    open_page(page, form_url(form))

    page.get_by_label("Postal code").fill("99999")
    send(page, "en")

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Email: " + text_in("en", "This field is required."))
    summary.get_by_role("link", name="Postal code").click()
    assert page.url.endswith("#id_postal_code")
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_with_javascript_the_error_summary_takes_focus_and_its_links_reach_the_fields(
    page: Page, form: Form
) -> None:
    open_page(page, form_url(form))

    send(page, "en")

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Email").click()
    expect(page.locator("#id_email")).to_be_focused()

    fill_in(page, "en")
    send(page, "en")
    expect(page.get_by_role("status")).to_contain_text(SUCCESS)
    assert submission().typed_email  # stored; the relay applies it


def _form_page(page: Page, form: Form, language: str) -> None:
    open_page(page, form_url(form, language=language))


def _error_page(page: Page, form: Form, language: str) -> None:
    open_page(page, form_url(form, language=language))
    page.locator("#id_postal_code").fill("99999")
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _thanks_page(page: Page, form: Form, language: str) -> None:
    open_page(page, form_url(form, "thanks", language=language))


def _sent(form: Form) -> Submission:
    from django.test import Client

    from tests.conversion.test_public_forms import answers

    Client().post(form_url(form), answers())
    return submission()


def _confirm_page(page: Page, form: Form, language: str) -> None:
    token = services.optin_token(_sent(form))
    open_page(page, confirm_url(token, language=language))


def _confirmed_page(page: Page, form: Form, language: str) -> None:
    token = services.optin_token(_sent(form))
    open_page(page, confirm_url(token, language=language))
    page.locator("main button[type=submit]").click()
    expect(page.get_by_role("status")).to_be_visible()


def _invalid_link_page(page: Page, form: Form, language: str) -> None:
    open_page(page, confirm_url("not-a-token", language=language), status=400)


PAGES = {
    "form": _form_page,
    "errors": _error_page,
    "thanks": _thanks_page,
    "optin-confirm": _confirm_page,
    "optin-confirmed": _confirmed_page,
    "optin-invalid": _invalid_link_page,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_form_pages_have_no_wcag_violations(
    page: Page, form: Form, name: str, language: str
) -> None:
    PAGES[name](page, form, language)

    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)


def test_the_optin_can_be_confirmed_without_javascript(page_without_js: Page, form: Form) -> None:
    page = page_without_js
    sent = _sent(form)
    open_page(page, confirm_url(services.optin_token(sent)))

    page.get_by_role("button", name="Yes, confirm my subscription").click()

    expect(page.get_by_role("status")).to_contain_text("your subscription is confirmed")
    sent.refresh_from_db()
    assert sent.optin_confirmed_at is not None
