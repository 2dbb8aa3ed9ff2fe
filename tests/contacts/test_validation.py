"""The keyed e-mail fingerprint: keyed on PERSONAL_DATA_KEY, so SECRET_KEY can rotate."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from contacts import rights
from contacts.models import Contact, Tombstone
from contacts.services import contact_upsert
from contacts.validation import email_hash
from inbound.lib.errors import DomainError
from tests.contacts.factories import ContactFactory

EMAIL = "lucia.perez@correo.example"


def test_email_hash_does_not_change_when_secret_key_rotates(settings: Any) -> None:
    before = email_hash(EMAIL)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-a-rotation-" + "x" * 30
    assert email_hash(EMAIL) == before


def test_email_hash_changes_with_personal_data_key(settings: Any) -> None:
    before = email_hash(EMAIL)
    settings.PERSONAL_DATA_KEY = "another-personal-data-key-" + "y" * 30
    assert email_hash(EMAIL) != before
    assert email_hash(" Lucia.Perez@Correo.example ") == email_hash(EMAIL)


def test_personal_data_key_set_to_the_old_secret_key_keeps_old_fingerprints(
    settings: Any,
) -> None:
    """The upgrade path of docs/operations.md: tombstones written when the hash was keyed on
    SECRET_KEY are still recognised once PERSONAL_DATA_KEY holds that same value."""
    old_secret_key = "the-secret-key-an-installation-had-before-" + "z" * 20
    derived = hashlib.sha256(b"contacts.email_hash:" + old_secret_key.encode()).digest()
    stored = hmac.new(derived, EMAIL.encode(), hashlib.sha256).hexdigest()
    settings.PERSONAL_DATA_KEY = old_secret_key
    assert email_hash(EMAIL) == stored


@pytest.mark.django_db
def test_an_erased_person_stays_erased_after_secret_key_rotates(settings: Any) -> None:
    rights.contact_anonymise(contact=ContactFactory(email=EMAIL), reason="RGPD art. 17")
    assert Tombstone.objects.count() == 1

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-a-rotation-" + "x" * 30

    with pytest.raises(DomainError):
        contact_upsert(email=EMAIL, source="import", respect_tombstones=True)
    assert not Contact.objects.filter(email=EMAIL).exists()
