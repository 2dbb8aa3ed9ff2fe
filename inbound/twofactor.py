"""Two-step sign-in for staff: a password and a code from an authenticator app (TOTP).

Built on django-otp (its TOTP devices, throttling and replay protection, and its middleware that
marks a session verified). Staff enrol a device on `/es/staff/account/two-factor/` (views in
`inbound.views_account`) and from then on sign in with user name, password and the code: the
admin's login form (`StaffLoginForm`) asks for all three at once, so nothing is signed in on
the password alone.

`STAFF_2FA_REQUIRED` (on by default when DEBUG is off) makes it compulsory for the roles that
can reach or change citizens' data in bulk (`TWO_FACTOR_ROLES`): such a member without a device
is sent to enrol before any admin or staff page (`StaffTwoFactorMiddleware`), and the API
refuses their session and their tokens (`inbound.api`). Anyone who has enrolled a device must
use it, required or not.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbound.roles import Role, has_role

TWO_FACTOR_ROLES = (Role.ADMINISTRATOR, Role.MARKETER)
DEVICE_NAME = "app"
_STAFF_PATH = re.compile(r"^/(?:[a-z]{2}(?:-[a-z]+)?/)?staff/")
# Admin pages that must stay open on the way to enrolling: signing in and out.
_ADMIN_OPEN = {"login", "logout"}


def two_factor_required(user: Any) -> bool:
    """Whether `user` must sign in with a second factor (a setting, and their role)."""
    return bool(settings.STAFF_2FA_REQUIRED and has_role(user, *TWO_FACTOR_ROLES))


def confirmed_device(user: Any) -> TOTPDevice | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def two_factor_missing(user: Any) -> bool:
    """A member who must use a second factor and has not enrolled one yet."""
    return two_factor_required(user) and confirmed_device(user) is None


def session_needs_second_factor(user: Any) -> bool:
    """Whether this signed-in session must enrol or give a code before staff pages: the role
    requires it, or the member enrolled a device, and the session was not verified with it."""
    if not (getattr(user, "is_authenticated", False) and user.is_staff):
        return False
    if getattr(user, "is_verified", lambda: False)():
        return False
    return two_factor_required(user) or confirmed_device(user) is not None


# --- Devices --------------------------------------------------------------------------------


def totp_device_pending(*, user: Any) -> TOTPDevice:
    """The member's device being enrolled (unconfirmed): the same secret across reloads of the
    enrolment page, a new one once a device is confirmed or removed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_code_problem(device: TOTPDevice, code: str) -> str | None:
    """Why `code` does not verify on `device`, in words for staff; None when it does.

    A wrong code slows the next attempts down (django-otp's throttling: 1, 2, 4… seconds) and
    a code can be used once only.
    """
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return _("Enter the 6-digit code your authenticator app shows.")
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _details = locked.verify_is_allowed()
        if not allowed:
            return _("Too many wrong codes in a row: wait a few seconds and try again.")
        if not locked.verify_token(code):
            return _("That code is not right. Check the clock of your phone and try again.")
    device.refresh_from_db()
    return None


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice) -> TOTPDevice:
    """Make the pending device the member's one device (any older one is removed)."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as a QR code, inline SVG drawn here (no image service sees the
    secret), named for screen readers."""
    label = _("QR code to add this account to your authenticator app")
    svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=4)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


# --- Sign-in --------------------------------------------------------------------------------


class StaffLoginForm(AdminAuthenticationForm):
    """The admin's sign-in: user name, password and, for members with a device, its code.

    The code is checked after the password, so the password alone never signs anybody in
    whose account has a device. A wrong code counts as a failed sign-in (django-axes and the
    audit log hear of it through `user_login_failed`).
    """

    otp_token = forms.CharField(
        label=gettext_lazy("Verification code"),
        required=False,
        max_length=12,
        help_text=gettext_lazy(
            "The 6 digits your authenticator app shows, if you turned on two-step verification."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user: Any = self.get_user()
        device = confirmed_device(user)
        if device is None:
            return cleaned
        problem: str | None
        if not (cleaned.get("otp_token") or "").strip():
            problem = _("Your account uses two-step verification: enter the code too.")
        else:
            problem = totp_code_problem(device, cleaned["otp_token"])
        if problem:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username(), "factor": "totp"},
                request=self.request,
            )
            raise forms.ValidationError(problem, code="otp_invalid")
        # django-otp's user_logged_in receiver marks the session verified with this device.
        user.otp_device = device
        return cleaned


# --- Enforcement ----------------------------------------------------------------------------


class StaffTwoFactorMiddleware:
    """Sends a signed-in member who must enrol or give a code to the enrolment page before
    any admin or staff page. After django-otp's OTPMiddleware. (The API has its own check in
    its authentication classes, `inbound.api`.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not _guarded(request) or not session_needs_second_factor(request.user):
            return None
        page = reverse("staff_account:two-factor")
        return HttpResponseRedirect(f"{page}?{urlencode({'next': request.get_full_path()})}")


def _guarded(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    if "staff_account" in match.namespaces and match.url_name == "two-factor":
        return False  # the way out of the redirect
    if "admin" in match.namespaces:
        return match.url_name not in _ADMIN_OPEN
    return bool(_STAFF_PATH.match(request.path_info))
