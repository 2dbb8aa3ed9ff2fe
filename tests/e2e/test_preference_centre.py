"""The citizen's preference centre in a real browser: accessible in es and en, works without JS."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from contacts import rights
from contacts.models import ConsentRecord, Contact, Subscription
from tests.contacts.factories import ContactFactory, TopicFactory, grant
from tests.e2e.accessibility import assert_accessible

# The rights pages are wired in by tests.contacts.test_rights' URLconf until the project's is.
pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.contacts.test_rights")]

LANGUAGES = ["es", "en"]


def url_in(language: str, name: str, **kwargs: str) -> str:
    with translation.override(language):
        return reverse(f"contacts_public:{name}", kwargs=kwargs or None)


def text_in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def citizen() -> Contact:
    obras = TopicFactory(slug="obras-e2e", name="Obras en la calle", order=1)
    TopicFactory(slug="cultura-e2e", name="Agenda cultural", order=2)
    contact = ContactFactory(email="e2e.vecina@correo.example")
    Subscription.objects.create(contact=contact, topic=obras, status="active")
    grant(contact, ConsentRecord.Purpose.TOPIC, obras)
    return contact


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


PAGES = {
    "preferences": ("preferences", 200),
    "delete-confirm": ("preferences-delete", 200),
    "request-link": ("preferences-request", 200),
    "request-data": ("data-request", 200),
    "invalid-link": ("preferences", 400),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_rights_page_has_no_wcag_violations(
    page: Page, site: str, name: str, language: str
) -> None:
    url_name, status = PAGES[name]
    token = rights.rights_token_make(contact=citizen(), purpose=rights.PREFERENCES)
    kwargs = (
        {"token": token} if url_name.startswith("preferences") and "request" not in url_name else {}
    )
    if status == 400:
        kwargs = {"token": token[:-3] + "xyz"}
    open_page(page, url_in(language, url_name, **kwargs), status)

    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_with_errors_stays_accessible(page: Page, site: str, language: str) -> None:
    token = rights.rights_token_make(contact=citizen(), purpose=rights.PREFERENCES)
    open_page(page, url_in(language, "preferences", token=token))

    page.get_by_label(text_in(language, "Until the date below")).check()
    page.get_by_role("button", name=text_in(language, "Save my preferences")).click()

    expect(page.get_by_role("alert")).to_contain_text(
        text_in(language, "Enter the date to pause email until.")
    )
    assert_accessible(page)


def test_changing_topics_works_without_javascript(page_without_js: Page, site: str) -> None:
    page = page_without_js
    contact = citizen()
    token = rights.rights_token_make(contact=contact, purpose=rights.PREFERENCES)
    open_page(page, url_in("en", "preferences", token=token))
    topics = page.get_by_role("group", name=text_in("en", "Topics"))
    expect(topics.get_by_label("Obras en la calle")).to_be_checked()

    topics.get_by_label("Obras en la calle").uncheck()
    topics.get_by_label("Agenda cultural").check()
    how_often = text_in("en", "How often do you want news about %(topic)s?")
    cultura_often = page.get_by_role("group", name=how_often % {"topic": "Agenda cultural"})
    expect(cultura_often.get_by_label(text_in("en", "As soon as it is published"))).to_be_checked()
    cultura_often.get_by_label(text_in("en", "Once a week, in a summary")).check()
    page.get_by_role("button", name=text_in("en", "Save my preferences")).click()

    expect(page.get_by_role("status")).to_contain_text(
        text_in("en", "Your preferences have been saved.")
    )
    expect(topics.get_by_label("Agenda cultural")).to_be_checked()
    expect(topics.get_by_label("Obras en la calle")).not_to_be_checked()
    expect(cultura_often.get_by_label(text_in("en", "Once a week, in a summary"))).to_be_checked()
    active = Subscription.objects.filter(contact=contact, status="active")
    assert list(active.values_list("topic__slug", "frequency")) == [("cultura-e2e", "weekly")]


def test_unsubscribing_from_everything_works_without_javascript(
    page_without_js: Page, site: str
) -> None:
    page = page_without_js
    contact = citizen()
    token = rights.rights_token_make(contact=contact, purpose=rights.PREFERENCES)
    open_page(page, url_in("es", "preferences", token=token))

    page.get_by_role("button", name=text_in("es", "Unsubscribe from everything")).click()

    expect(page.get_by_role("status")).to_contain_text(
        text_in(
            "es",
            "You have been unsubscribed from all email. We will only write to you "
            "about something you ask us for.",
        )
    )
    contact.refresh_from_db()
    assert contact.email_status == Contact.EmailStatus.UNSUBSCRIBED
