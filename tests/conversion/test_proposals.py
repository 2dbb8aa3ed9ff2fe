"""Proposed changes: values a stranger typed for an existing contact wait on the contact's page
until staff accept (written, audited) or dismiss them; nothing else may apply them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from conversion.models import Submission
from conversion.outbox import effects_due
from conversion.services import submission_create
from inbound.models import AuditEntry
from tests.contacts.factories import ContactFactory
from tests.conversion.factories import newsletter_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed() -> tuple[Contact, Submission]:
    contact = ContactFactory(email="ana@correo.example", first_name="Ana", postal_code="28001")
    submission, _created = submission_create(
        form=newsletter_form(double_opt_in=False, name="Ferias"),
        cleaned={"email": "ana@correo.example", "nombre": "Intrusa", "cp": "28999"},
        files={},
        language="es",
        page="",
        referrer="",
        visitor_key="",
    )
    effects_due()
    return contact, submission


def _page(client: Client, contact: Contact) -> str:
    return client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()


def _decide(client: Client, contact: Contact, submission: Submission, decision: str) -> Any:
    url = reverse("conversion_staff:proposal-decide", args=[contact.pk, submission.pk])
    return client.post(url, {"decision": decision, "next": "https://evil.example/"})


def test_the_contact_page_shows_what_a_stranger_proposed(
    client: Client, marketer: Any, proposed: tuple[Contact, Submission]
) -> None:
    contact, _submission = proposed
    client.force_login(marketer)

    html = _page(client, contact)

    assert "Intrusa" in html and "28999" in html
    assert 'id="contact-proposals"' in html
    contact.refresh_from_db()
    assert contact.first_name == "Ana"


def test_accepting_writes_the_values_and_is_audited(
    client: Client, marketer: Any, proposed: tuple[Contact, Submission]
) -> None:
    contact, submission = proposed
    client.force_login(marketer)

    response = _decide(client, contact, submission, "accept")

    assert response.status_code == 302
    page = reverse("admin:contacts_contact_change", args=[contact.pk])
    assert response["Location"] == f"{page}#contact-proposals"  # never the `next` sent
    contact.refresh_from_db()
    assert (contact.first_name, contact.postal_code) == ("Intrusa", "28999")
    submission.refresh_from_db()
    assert submission.proposal == Submission.Proposal.ACCEPTED
    entry = AuditEntry.objects.get(action="contact_proposal_accepted")
    assert entry.actor == marketer and entry.detail["fields"] == ["first_name", "postal_code"]
    assert 'id="contact-proposals"' not in _page(client, contact)
    # Deciding twice changes nothing more.
    _decide(client, contact, submission, "dismiss")
    submission.refresh_from_db()
    assert submission.proposal == Submission.Proposal.ACCEPTED


def test_dismissing_keeps_the_contact_as_it_was(
    client: Client, marketer: Any, proposed: tuple[Contact, Submission]
) -> None:
    contact, submission = proposed
    client.force_login(marketer)

    _decide(client, contact, submission, "dismiss")

    contact.refresh_from_db()
    assert contact.first_name == "Ana"
    submission.refresh_from_db()
    assert submission.proposal == Submission.Proposal.DISMISSED
    assert AuditEntry.objects.filter(action="contact_proposal_dismissed").exists()


def test_an_analyst_cannot_accept_proposals(
    client: Client, analyst: Any, proposed: tuple[Contact, Submission]
) -> None:
    contact, submission = proposed
    client.force_login(analyst)

    assert _decide(client, contact, submission, "accept").status_code == 403
    contact.refresh_from_db()
    assert contact.first_name == "Ana"
    assert "Accept these changes" not in _page(client, contact)
