"""What a submission keeps of its visitor: the day's key only with the tracking consent, nothing
under GPC/DNT, and identity stitching of the same day's visits when the citizen allows it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from contacts.models import ConsentRecord, Contact, Touchpoint
from contacts.selectors import contact_timeline
from conversion.models import Form, Submission
from inbound.celery import app as celery_app
from inbound.lib.privacy import ip_hash
from inbound.visitors import salt_memo_forget, visitor_key
from tests.contacts.factories import grant
from tests.conversion.landing_factories import answers as landing_answers
from tests.conversion.landing_factories import (
    gated_page,
    landing_url,
    private_in_tmp,  # noqa: F401 -- a fixture
)
from tests.conversion.test_embed import payload, send
from tests.conversion.test_public_forms import answers, demo_like_form, form_url

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    salt_memo_forget()
    yield
    salt_memo_forget()


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> Any:
    """Run what a request queues on commit (the tracking tasks) in-process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def visitor() -> Client:
    """One browser on one address."""
    return Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def form() -> Form:
    return demo_like_form()


def todays_key() -> str:
    return visitor_key(RequestFactory().get("/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER))


def browse(client: Client, form: Form, tracked: Any, **headers: str) -> None:
    """Look at the form and search the site, as an anonymous visitor."""
    with tracked():
        assert client.get(form_url(form), headers=headers).status_code == 200
    with tracked(), translation.override("es"):
        client.get(reverse("content:search"), {"q": "piscina"}, headers=headers)


def convert(client: Client, form: Form, body: Any, **headers: str) -> Any:
    """Send the form, let the relay apply it and the citizen confirm from the e-mail (staged
    submissions reach the contact only then); the form's answer."""
    from conversion.outbox import effects_due
    from conversion.services import optin_confirm, optin_token

    response = client.post(form_url(form), body, headers=headers)
    effects_due()
    submission = Submission.objects.order_by("-pk").first()
    if submission is not None and submission.contact_id is None and submission.email_hash:
        optin_confirm(optin_token(submission))
    return response


def anonymous_visits() -> list[Touchpoint]:
    return list(Touchpoint.objects.filter(kind__in=["page_view", "search"], contact=None))


# --- What a submission keeps ------------------------------------------------------------------


def test_without_tracking_consent_no_ip_derived_value_lands_on_the_contacts_rows(
    visitor: Client, form: Form
) -> None:
    response = convert(visitor, form, answers())  # the newsletter ticked, not tracking

    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.visitor_key == ""
    contact = Contact.objects.get()
    assert {t.visitor_key for t in Touchpoint.objects.filter(contact=contact)} == {""}
    [consent] = ConsentRecord.objects.filter(contact=contact)
    assert consent.ip_hash == ""


def test_with_tracking_consent_the_submission_keeps_the_days_key_and_the_ledger_none(
    visitor: Client, form: Form
) -> None:
    convert(visitor, form, answers(remember="on"))

    submission = Submission.objects.get()
    assert submission.visitor_key == todays_key() != ""
    assert submission.visitor_key != ip_hash(ADDRESS)  # never the lasting hash of the address
    # The ledger outlives erasure: it keeps no key, even with consent.
    assert set(ConsentRecord.objects.values_list("ip_hash", flat=True)) == {""}


@pytest.mark.parametrize("header", [{"Sec-GPC": "1"}, {"DNT": "1"}])
def test_a_browser_refusing_tracking_is_accepted_but_neither_keyed_nor_linked(
    visitor: Client, form: Form, tracked: Any, header: dict[str, str]
) -> None:
    browse(visitor, form, tracked)  # earlier visits, before the browser's setting changed

    response = convert(visitor, form, answers(remember="on"), **header)

    assert response.status_code == 302  # the submission itself is accepted
    submission = Submission.objects.get()
    assert submission.contact is not None
    assert submission.visitor_key == ""
    assert Touchpoint.objects.get(kind="form_submit").visitor_key == ""
    assert len(anonymous_visits()) == 2  # no link to the earlier visits
    assert not Touchpoint.objects.filter(contact=submission.contact, kind="page_view").exists()


def test_the_json_api_honours_do_not_track_too(client: Client, form: Form) -> None:
    values = {**payload(form)["values"], "remember": True}

    response = send(client, form, payload(form, values=values), DNT="1")

    assert response.status_code == 201, response.content
    assert Submission.objects.get().visitor_key == ""


def test_the_json_api_keeps_the_key_only_with_tracking_consent(client: Client, form: Form) -> None:
    send(client, form, payload(form))
    values = {**payload(form)["values"], "email": "otra@correo.example", "remember": True}
    send(client, form, payload(form, values=values))

    keys = dict(Submission.objects.values_list("values__email", "visitor_key"))
    assert keys["lucia.vecina@correo.example"] == ""
    assert keys["otra@correo.example"] != ""


# --- Identity stitching ----------------------------------------------------------------------


def test_converting_with_tracking_consent_puts_the_days_visits_on_the_timeline(
    visitor: Client, form: Form, tracked: Any
) -> None:
    browse(visitor, form, tracked)

    convert(visitor, form, answers(remember="on"))

    contact = Contact.objects.get()
    timeline = [t.kind for t in contact_timeline(contact=contact)]
    assert sorted(timeline) == ["form_submit", "optin_confirmed", "page_view", "search"]
    assert anonymous_visits() == []


def test_converting_without_tracking_consent_leaves_the_visits_anonymous(
    visitor: Client, form: Form, tracked: Any
) -> None:
    browse(visitor, form, tracked)

    convert(visitor, form, answers())

    contact = Contact.objects.get()
    assert sorted(t.kind for t in contact_timeline(contact=contact)) == [
        "form_submit", "optin_confirmed",
    ]  # fmt: skip
    assert len(anonymous_visits()) == 2


def test_stitching_reaches_only_the_same_days_visits(
    visitor: Client, form: Form, tracked: Any
) -> None:
    """Keys rotate at midnight: yesterday's visits cannot be told to be this visitor's."""
    with time_machine.travel(dt.datetime(2025, 3, 3, 20, tzinfo=MADRID), tick=False):
        browse(visitor, form, tracked)
    with time_machine.travel(dt.datetime(2025, 3, 4, 9, tzinfo=MADRID), tick=False):
        with tracked():
            visitor.get(form_url(form))
        convert(visitor, form, answers(remember="on"))

    contact = Contact.objects.get()
    linked = contact_timeline(contact=contact).filter(kind__in=["page_view", "search"])
    assert [t.occurred_at.date() for t in linked] == [dt.date(2025, 3, 4)]
    assert {t.occurred_at.date() for t in anonymous_visits()} == {dt.date(2025, 3, 3)}


def test_another_visitors_visits_are_not_linked(form: Form, tracked: Any) -> None:
    browse(Client(REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT=BROWSER), form, tracked)

    convert(Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER), form, answers(remember="on"))

    assert len(anonymous_visits()) == 2


# --- Downloads of gated documents -----------------------------------------------------------


def download(client: Client, *, tracking: bool) -> Touchpoint:
    """Send a gated page's form and download its document; the `download` touchpoint."""
    page = gated_page()
    html = client.post(landing_url(page), landing_answers(), follow=True).content.decode()
    [link] = re.findall(r'href="(/en/downloads/[^"]+/)"', html)
    from conversion.outbox import effects_due

    effects_due()  # the relay applies the submission: the download then names its contact
    if tracking:
        grant(Contact.objects.get(), ConsentRecord.Purpose.TRACKING)
    b"".join(client.get(link).streaming_content)
    return Touchpoint.objects.get(kind="download")


@pytest.mark.usefixtures("private_in_tmp")
def test_a_download_keeps_no_key_for_a_contact_who_does_not_allow_tracking(
    visitor: Client,
) -> None:
    touchpoint = download(visitor, tracking=False)

    assert touchpoint.contact is not None
    assert touchpoint.visitor_key == ""


@pytest.mark.usefixtures("private_in_tmp")
def test_a_download_keeps_the_days_key_for_a_contact_who_allows_tracking(
    visitor: Client,
) -> None:
    touchpoint = download(visitor, tracking=True)

    assert touchpoint.contact is not None
    assert touchpoint.visitor_key == todays_key() != ""
