"""The citizen's preference centre, and the pages to ask for and use a data link, in a real
browser: accessible in es and en (errors and dead links included), and working without JS."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from contacts import links, rights
from contacts.models import ConsentRecord, Contact, Subscription
from inbound.celery import app as celery_app
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


def old_token(contact: Contact, purpose: str, age: float) -> str:
    """A token signed `age` seconds ago: the signer's clock is set back while signing."""
    signed_at = time.time() - age
    with pytest.MonkeyPatch.context() as m:
        m.setattr(time, "time", lambda: signed_at)
        return links.rights_token_make(contact=contact, purpose=purpose)


def used_token(contact: Contact) -> str:
    token = links.rights_token_make(contact=contact, purpose=links.DATA_EXPORT)
    with transaction.atomic():
        links.rights_token_use(token=token, purpose=links.DATA_EXPORT)
    return token


# name: (url name, how to make its token from the contact or None, expected status)
PAGES: dict[str, tuple[str, Callable[[Contact], str] | None, int]] = {
    "preferences": (
        "preferences",
        lambda c: links.rights_token_make(contact=c, purpose=links.PREFERENCES),
        200,
    ),
    "request-link": ("preferences-request", None, 200),
    "request-data": ("data-request", None, 200),
    "data-download": (
        "data-download",
        lambda c: links.rights_token_make(contact=c, purpose=links.DATA_EXPORT),
        200,
    ),
    "erase-confirm": (
        "data-erase",
        lambda c: links.rights_token_make(contact=c, purpose=links.ERASURE),
        200,
    ),
    "invalid-link": (
        "preferences",
        lambda c: links.rights_token_make(contact=c, purpose=links.PREFERENCES)[:-3] + "xyz",
        400,
    ),
    "link-of-another-purpose": (
        "data-erase",
        lambda c: links.rights_token_make(contact=c, purpose=links.DATA_EXPORT),
        400,
    ),
    "expired-link": ("data-erase", lambda c: old_token(c, links.ERASURE, 2 * 3600), 410),
    "used-link": ("data-download", used_token, 410),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_rights_page_has_no_wcag_violations(
    page: Page, site: str, name: str, language: str
) -> None:
    url_name, make_token, status = PAGES[name]
    kwargs = {"token": make_token(citizen())} if make_token else {}
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


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The link e-mail is sent in-process (the live server is a thread of this process), so it
    lands in the test outbox."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def emailed_path() -> str:
    [message] = mail.outbox
    link = next(word for word in message.body.split() if word.startswith("http"))
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def ask_for_a_link(page: Page, language: str, contact: Contact, choice: str) -> str:
    """Fill the "my data" page as a citizen and return the path of the link e-mailed."""
    page.get_by_label(text_in(language, choice)).check()
    page.get_by_label(text_in(language, "Your email address")).fill(str(contact.email))
    page.get_by_role("button", name=text_in(language, "Send me a link")).click()
    expect(page.get_by_role("status")).to_contain_text(
        text_in(
            language,
            "If that address is on our lists, we have sent it a link. It may take a few "
            "minutes to arrive; check your spam folder too.",
        )
    )
    return emailed_path()


def download(page: Page, language: str) -> dict[str, object]:
    with page.expect_download() as download_info:
        page.get_by_role("button", name=text_in(language, "Download my data")).click()
    with zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes())) as archive:
        return dict(json.loads(archive.read("data.json")))


def confirm_erasure(page: Page, language: str) -> None:
    page.get_by_role("button", name=text_in(language, "Erase my data")).click()
    expect(page.get_by_role("alert")).to_contain_text(text_in(language, "Tick the box to confirm."))


@pytest.mark.usefixtures("eager_celery")
def test_asking_for_a_data_copy_and_downloading_it_works_without_javascript(
    page_without_js: Page, site: str
) -> None:
    page = page_without_js
    contact = citizen()
    open_page(page, "/es/")

    page.get_by_role("navigation", name=text_in("es", "Your email and your data")).get_by_role(
        "link", name=text_in("es", "My personal data")
    ).click()
    link = ask_for_a_link(page, "es", contact, "Download a copy of my data")
    open_page(page, link)  # what a mail scanner does: nothing is downloaded

    assert download(page, "es")["contact"]["email"] == contact.email  # type: ignore[index]
    open_page(page, link, 410)  # the link worked once
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text_in("es", "This link has already been used")
    )


@pytest.mark.usefixtures("eager_celery")
def test_asking_for_erasure_and_confirming_it_works_without_javascript(
    page_without_js: Page, site: str
) -> None:
    page = page_without_js
    contact = citizen()
    open_page(page, url_in("en", "data-request"))
    open_page(page, ask_for_a_link(page, "en", contact, "Erase my personal data"))

    confirm_erasure(page, "en")  # without the box ticked: refused, nothing erased
    contact.refresh_from_db()
    assert not contact.is_anonymised
    page.get_by_label(text_in("en", "I understand that this cannot be undone.")).check()
    page.get_by_role("button", name=text_in("en", "Erase my data")).click()

    expect(page.get_by_role("status")).to_contain_text(
        text_in(
            "en",
            "We have erased your personal data and will not write to you again. Thank you for "
            "having been in touch.",
        )
    )
    contact.refresh_from_db()
    assert contact.is_anonymised


@pytest.mark.usefixtures("eager_celery")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_step_of_asking_for_and_using_a_data_link_is_accessible(
    page: Page, site: str, language: str
) -> None:
    contact = citizen()
    open_page(page, url_in(language, "data-request"))
    page.get_by_role("button", name=text_in(language, "Send me a link")).click()
    expect(page.get_by_role("alert")).to_contain_text(text_in(language, "Your email address"))
    assert_accessible(page)  # the form with its errors

    link = ask_for_a_link(page, language, contact, "Download a copy of my data")
    assert_accessible(page)  # "check your email"
    open_page(page, link)
    download(page, language)
    open_page(page, link, 410)
    assert_accessible(page)  # "already used", with the form for a new link

    mail.outbox.clear()
    open_page(page, url_in(language, "data-request"))
    open_page(page, ask_for_a_link(page, language, contact, "Erase my personal data"))
    confirm_erasure(page, language)
    assert_accessible(page)  # the confirmation with its error
    page.get_by_label(text_in(language, "I understand that this cannot be undone.")).check()
    page.get_by_role("button", name=text_in(language, "Erase my data")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text_in(language, "Your data has been erased")
    )
    assert_accessible(page)
