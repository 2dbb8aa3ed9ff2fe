"""Two-step sign-in for staff (inbound.twofactor): enrolling an authenticator app, signing in
with password and code, and the roles that must use it when STAFF_2FA_REQUIRED is on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from inbound.models import AuditEntry
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/es/admin/login/"
ENROL = "/es/staff/account/two-factor/"


def totp(secret: bytes | str, at: float | None = None) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps, 6 digits), written out here rather than asked of
    the library under test. `secret` is the raw key or the base32 text staff type."""
    if isinstance(secret, str):
        text = secret.replace(" ", "").upper()
        secret = base64.b32decode(text + "=" * (-len(text) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def device_for(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def sign_in(client: Client, user: Any, code: str = "", password: str = STAFF_PASSWORD) -> Any:
    return client.post(
        LOGIN,
        {"username": user.username, "password": password, "otp_token": code, "next": "/es/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )


def signed_in(client: Client) -> bool:
    return bool(client.session.get("_auth_user_id"))


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = True


# --- Signing in -------------------------------------------------------------------------------


def test_password_and_a_real_code_sign_in_and_verify_the_session(
    client: Client, marketer: Any
) -> None:
    device = device_for(marketer)
    response = sign_in(client, marketer, code=totp(device.bin_key))
    assert response.status_code == 302 and response["Location"] == "/es/admin/"
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AuditEntry.objects.filter(action="login", actor=marketer).exists()


def test_a_wrong_code_does_not_sign_in_and_counts_as_a_failure(
    client: Client, marketer: Any
) -> None:
    device = device_for(marketer)
    wrong = f"{(int(totp(device.bin_key)) + 1) % 1_000_000:06d}"
    response = sign_in(client, marketer, code=wrong)
    assert response.status_code == 200
    assert not signed_in(client)
    assert "Ese código no es correcto" in response.content.decode()
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.detail == {"username": marketer.username, "factor": "totp"}
    # django-axes counted it: wrong codes lead to the same lockout as wrong passwords.
    assert AccessAttempt.objects.get(username=marketer.username).failures_since_start == 1


def test_the_password_alone_does_not_sign_in_an_account_with_a_device(
    client: Client, marketer: Any
) -> None:
    device_for(marketer)
    response = sign_in(client, marketer)
    assert response.status_code == 200 and not signed_in(client)
    assert "introduce también el código" in response.content.decode()


def test_a_code_cannot_be_used_twice(marketer: Any) -> None:
    device = device_for(marketer)
    code = totp(device.bin_key)
    assert sign_in(Client(), marketer, code=code).status_code == 302
    again = Client()
    assert sign_in(again, marketer, code=code).status_code == 200
    assert not signed_in(again)


def test_a_wrong_password_with_a_right_code_does_not_sign_in(client: Client, marketer: Any) -> None:
    device = device_for(marketer)
    sign_in(client, marketer, code=totp(device.bin_key), password="not-the-password")
    assert not signed_in(client)


def test_without_a_device_the_password_signs_in_when_not_required(
    client: Client, marketer: Any
) -> None:
    assert sign_in(client, marketer).status_code == 302
    assert client.get("/es/admin/").status_code == 200


# --- Enrolling --------------------------------------------------------------------------------


def test_staff_enrol_with_the_secret_shown_and_then_sign_in_with_a_code(
    client: Client, editor: Any, settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wait after a wrong code: its own test below
    client.force_login(editor)
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg role="img" aria-label="' in html  # the QR code, drawn here
    secret = re.search(r'<code class="two-factor-secret"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert secret is not None
    assert "otpauth" not in html.replace("otpauth://", "")  # no service is asked for an image

    wrong = client.post(ENROL, {"code": "000000" if totp(secret[1]) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "Ese código no es correcto" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=editor, confirmed=True).exists()

    response = client.post(ENROL, {"code": totp(secret[1]), "next": "/es/admin/"})

    assert response.status_code == 302 and response["Location"] == "/es/admin/"
    assert TOTPDevice.objects.get(user=editor).confirmed
    assert AuditEntry.objects.filter(action="two_factor_enrolled", actor=editor).exists()
    assert "activada" in client.get(ENROL).content.decode()
    # From now on the password alone is not enough; the next step's code is.
    fresh = Client()
    assert sign_in(fresh, editor).status_code == 200 and not signed_in(fresh)
    assert sign_in(fresh, editor, code=totp(secret[1], time.time() + 30)).status_code == 302


def test_after_a_wrong_code_the_next_attempt_must_wait(client: Client, marketer: Any) -> None:
    device = device_for(marketer)
    client.force_login(marketer)
    right = totp(device.bin_key)
    client.post(ENROL, {"code": "000000" if right != "000000" else "111111"})
    response = client.post(ENROL, {"code": right})
    assert response.status_code == 400
    assert "Demasiados códigos incorrectos seguidos" in response.content.decode()
    assert client.get("/es/admin/").status_code == 302


def test_the_secret_stays_the_same_across_reloads_until_confirmed(
    client: Client, editor: Any
) -> None:
    client.force_login(editor)
    first = client.get(ENROL).content.decode()
    second = client.get(ENROL).content.decode()
    pattern = r'<code class="two-factor-secret"[^>]*>([A-Z2-7 ]+)</code>'
    assert re.search(pattern, first)[1] == re.search(pattern, second)[1]  # type: ignore[index]
    assert TOTPDevice.objects.filter(user=editor).count() == 1


def test_after_verifying_it_goes_back_only_to_a_page_of_this_site(
    client: Client, editor: Any
) -> None:
    device = device_for(editor)
    client.force_login(editor)
    response = client.post(ENROL, {"code": totp(device.bin_key), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/es/admin/"


def test_the_enrolment_page_is_for_staff(client: Client) -> None:
    assert client.get(ENROL).status_code == 302
    assert not TOTPDevice.objects.exists()


# --- Required for Administrators and Marketers --------------------------------------------------


def test_a_marketer_without_a_device_is_sent_to_enrol_when_required(
    client: Client, marketer: Any, required: None
) -> None:
    assert sign_in(client, marketer).status_code == 302  # the password, then enrol
    for page in ("/es/admin/", "/es/admin/contacts/contact/", "/es/staff/conversion/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == f"{ENROL}?next={page.replace('/', '%2F')}"
    enrol = client.get(ENROL)
    assert enrol.status_code == 200
    assert "Tu rol debe iniciar sesión con verificación en dos pasos" in enrol.content.decode()


def test_the_session_api_refuses_a_marketer_without_a_device_when_required(
    client: Client, marketer: Any, required: None
) -> None:
    client.force_login(marketer)
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert "/es/staff/account/two-factor/" in response.json()["detail"]
    _instance, token = AuthToken.objects.create(user=marketer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").status_code in {401, 403}
    assert client.get(reverse("staff_account:api-tokens")).status_code == 302  # enrol first


def test_once_enrolled_a_required_marketer_reaches_everything(
    client: Client, marketer: Any, required: None
) -> None:
    device = device_for(marketer)
    assert sign_in(client, marketer, code=totp(device.bin_key)).status_code == 302
    assert client.get("/es/admin/").status_code == 200
    assert client.get("/es/staff/conversion/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_session_not_verified_with_the_device_is_asked_for_a_code(
    client: Client, marketer: Any
) -> None:
    device = device_for(marketer)  # e.g. enrolled in another session
    client.force_login(marketer)
    response = client.get("/es/admin/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert "Introduce tu código de verificación" in client.get(ENROL).content.decode()
    client.post(ENROL, {"code": totp(device.bin_key)})
    assert client.get("/es/admin/").status_code == 200


def test_editors_and_analysts_are_not_required_to_enrol(
    client: Client, editor: Any, analyst: Any, required: None
) -> None:
    for user in (editor, analyst):
        client.force_login(user)
        assert client.get("/es/admin/").status_code == 200


def test_signing_out_stays_open_to_a_member_who_must_enrol(
    client: Client, marketer: Any, required: None
) -> None:
    client.force_login(marketer)
    response = client.post("/es/admin/logout/")
    assert response.status_code == 200
    assert not signed_in(client)


def test_an_administrator_removes_a_lost_device_and_the_member_enrols_again(
    client: Client, admin_user: Any, marketer: Any
) -> None:
    device = device_for(marketer)
    client.force_login(admin_user)
    client.post(ENROL, {"code": totp(device_for(admin_user).bin_key)})  # the admin's own session
    url = reverse("admin:inbound_twofactordevice_delete", args=[device.pk])
    assert client.get(reverse("admin:inbound_twofactordevice_changelist")).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=marketer).exists()
    entry = AuditEntry.objects.get(action="two_factor_device_removed")
    assert entry.actor == admin_user and entry.object_id == str(marketer.pk)
    member = Client()
    assert sign_in(member, marketer).status_code == 302  # the password again, then enrol
