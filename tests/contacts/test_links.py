"""Citizens' signed links: what survives a SECRET_KEY rotation and what does not; single use.

The fingerprint of the address bound into every link, and the tombstones of erased addresses,
are keyed on PERSONAL_DATA_KEY. Rotating SECRET_KEY with the old key in SECRET_KEY_FALLBACKS
keeps every link working; without the fallback the signatures fail (a clear page, nothing
changes), and an erased person stays out either way.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.unsubscribe import unsubscribe_token
from contacts import links, rights
from contacts.models import ConsentRecord, Contact, UsedToken
from contacts.selectors import consent_is_granted
from contacts.services import contact_upsert
from inbound.lib.errors import DomainError
from inbound.models import AuditEntry
from tests.campaigns.test_sending import campaign_for, subscriber
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

NEW_KEY = "rotated-" + "k" * 56
ERASED = "borrada@correo.example"


def erase_someone() -> None:
    rights.contact_anonymise(contact=ContactFactory(email=ERASED), reason="RGPD art. 17")


def assert_erased_person_stays_out() -> None:
    with pytest.raises(DomainError):
        contact_upsert(email=ERASED.upper(), respect_tombstones=True)
    assert not Contact.objects.filter(email__iexact=ERASED).exists()


def links_of(contact: Contact) -> dict[str, str]:
    campaign = campaign_for(contact)
    unsubscribe = unsubscribe_token(contact=contact, campaign=campaign)
    preferences = links.rights_token_make(contact=contact, purpose=links.PREFERENCES)
    data = links.rights_token_make(contact=contact, purpose=links.DATA_EXPORT)
    return {
        "unsubscribe": reverse("campaigns:unsubscribe", kwargs={"token": unsubscribe}),
        "preferences": reverse("contacts_public:preferences", kwargs={"token": preferences}),
        "data": reverse("contacts_public:data-download", kwargs={"token": data}),
    }


def test_rotating_secret_key_with_a_fallback_keeps_links_working_and_the_erased_out(
    client: Client, settings: Any
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    sent = links_of(lucia)
    erase_someone()

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = NEW_KEY

    preferences = client.get(sent["preferences"])
    assert preferences.status_code == 200
    assert "lucia@correo.example" in preferences.content.decode()
    assert client.get(sent["data"]).status_code == 200
    assert client.get(sent["unsubscribe"]).status_code == 200
    assert client.post(sent["unsubscribe"]).status_code == 200
    assert not consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert_erased_person_stays_out()


def test_rotating_secret_key_without_a_fallback_voids_links_cleanly_and_the_erased_stay_out(
    client: Client, settings: Any
) -> None:
    lucia = subscriber(email="lucia@correo.example")
    sent = links_of(lucia)
    erase_someone()

    settings.SECRET_KEY = NEW_KEY

    for name, status in (("preferences", 400), ("data", 400), ("unsubscribe", 404)):
        for method in ("get", "post"):
            response = getattr(client, method)(sent[name])
            assert response.status_code == status, (name, method)
            page = response.content.decode()
            assert "Este enlace no es válido" in page and "lucia@" not in page
    assert consent_is_granted(contact=lucia, purpose=ConsentRecord.Purpose.NEWSLETTER)
    assert_erased_person_stays_out()


def test_changing_the_personal_data_key_is_what_voids_the_fingerprints(
    client: Client, settings: Any
) -> None:
    """The other way round: the fingerprint really is keyed on PERSONAL_DATA_KEY."""
    lucia = subscriber(email="lucia@correo.example")
    sent = links_of(lucia)

    settings.PERSONAL_DATA_KEY = "another-personal-data-key"

    assert client.get(sent["preferences"]).status_code == 400
    assert client.get(sent["unsubscribe"]).status_code == 404


def test_two_clicks_at_once_spend_a_single_use_link_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second click read "unused" before the first committed: the unique hash stops it."""
    lucia = subscriber(email="lucia@correo.example")
    token = links.rights_token_make(contact=lucia, purpose=links.DATA_EXPORT)
    assert rights.contact_data_zip_by_link(token=token)

    monkeypatch.setattr(links, "rights_token_read", lambda *, token, purpose: lucia)
    with pytest.raises(links.LinkUsed):
        rights.contact_data_zip_by_link(token=token)

    assert AuditEntry.objects.filter(action="data_exported_by_citizen").count() == 1
    assert UsedToken.objects.count() == 1
