"""Unsubscribing from a campaign e-mail in a real browser: accessible in es and en, and the
button works without JavaScript."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from campaigns.unsubscribe import unsubscribe_token
from contacts.models import ConsentRecord, Contact
from contacts.selectors import consent_is_granted
from tests.campaigns.test_sending import campaign_for, subscriber
from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def unsubscribe_link(language: str) -> tuple[str, str, str, Contact]:
    contact = subscriber()
    campaign = campaign_for(contact)
    with translation.override(language):
        path = reverse(
            "campaigns:unsubscribe",
            kwargs={"token": unsubscribe_token(contact=contact, campaign=campaign)},
        )
        button = translation.gettext("Yes, unsubscribe me")
        done = translation.gettext("We will not send you the newsletter any more.")
    return path, button, done, contact


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", ["es", "en"])
def test_unsubscribing_has_no_wcag_violations(page: Page, site: str, language: str) -> None:
    path, button, done, _contact = unsubscribe_link(language)

    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("status")).to_contain_text(done)
    assert_accessible(page)


def test_unsubscribing_works_without_javascript(page_without_js: Page, site: str) -> None:
    page = page_without_js
    path, button, done, contact = unsubscribe_link("es")

    page.goto(path)
    page.get_by_role("button", name=button).click()

    expect(page.get_by_role("status")).to_contain_text(done)
    assert not consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
