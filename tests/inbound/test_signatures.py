"""The fast signer writes Django's own tokens: Django reads them, and old links keep working."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import override_settings

from inbound.lib.signatures import Signer

PAYLOAD = {"c": 12345, "k": 7, "e": "0123456789abcdef"}


def test_a_signed_value_is_the_one_django_signs() -> None:
    assert Signer("campaigns.tracking").sign("1z.9ix") == signing.Signer(
        salt="campaigns.tracking"
    ).sign("1z.9ix")


def test_a_signed_object_is_the_one_django_signs() -> None:
    token = Signer("campaigns.unsubscribe").sign_object(PAYLOAD)

    assert token == signing.Signer(salt="campaigns.unsubscribe").sign_object(PAYLOAD)
    assert signing.Signer(salt="campaigns.unsubscribe").unsign_object(token) == PAYLOAD


def test_a_timestamped_object_is_read_by_djangos_timestamp_signer() -> None:
    token = Signer("contacts.preferences", timestamped=True).sign_object(PAYLOAD)

    signer = signing.TimestampSigner(salt="contacts.preferences")
    assert signer.unsign_object(token, max_age=60) == PAYLOAD


def test_a_token_of_another_salt_or_secret_is_refused() -> None:
    token = Signer("campaigns.unsubscribe").sign_object(PAYLOAD)

    with pytest.raises(signing.BadSignature):
        signing.Signer(salt="campaigns.tracking").unsign_object(token)
    with override_settings(SECRET_KEY="another-secret-key-of-enough-length-for-django-0123"):
        with pytest.raises(signing.BadSignature):
            signing.Signer(salt="campaigns.unsubscribe").unsign_object(token)
        # Signed under the new secret, it is read under the new secret: the key follows it.
        fresh = Signer("campaigns.unsubscribe").sign_object(PAYLOAD)
        assert signing.Signer(salt="campaigns.unsubscribe").unsign_object(fresh) == PAYLOAD
