"""A staff member's own account pages, under /<lang>/staff/account/: two-step verification
(enrol a device, or give a code for this session) and API tokens (create, list, revoke).

Plain forms, no JavaScript. The two-factor page stays open to a member who has not enrolled
yet (`inbound.twofactor.StaffTwoFactorMiddleware` sends them here); the token page does not,
so a token is only ever created in a session verified with both factors when that is required.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from knox.models import AuthToken

from inbound.audit import audit_record
from inbound.twofactor import (
    confirmed_device,
    totp_code_problem,
    totp_device_confirm,
    totp_device_pending,
    totp_qr_svg,
    totp_secret_text,
    two_factor_required,
)

View = Callable[..., HttpResponse]


def staff_only(view: View) -> View:
    """Anonymous visitors go to the login page; signed-in people who are not staff get a 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def _next_url(request: HttpRequest) -> str:
    """Where to go after verifying: the page the member was on its way to, if it is ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")


# --- Two-step verification ------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your app"),
        max_length=12,
        help_text=gettext_lazy("6 digits; a new one every 30 seconds."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        error_messages={"required": gettext_lazy("Enter the 6-digit code your app shows.")},
    )


@never_cache  # the page shows a secret
@staff_only
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (QR code or the secret typed), or verify this session."""
    user: Any = request.user
    device = confirmed_device(user)
    if device is not None and user.is_verified():
        return render(
            request,
            "inbound/two_factor.html",
            _context(request, _("Two-step verification"), state="on", device=device),
        )
    enrolling = device is None
    device = device or totp_device_pending(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        problem = totp_code_problem(device, form.cleaned_data["code"])
        if problem:
            form.add_error("code", problem)
        else:
            return _verified(request, device, enrolling=enrolling)
    context = _context(
        request,
        _("Turn on two-step verification") if enrolling else _("Enter your verification code"),
        state="enrol" if enrolling else "verify",
        form=form,
        required=two_factor_required(user),
        next=_next_url(request),
    )
    if enrolling:
        context.update(qr_svg=totp_qr_svg(device), secret=totp_secret_text(device))
    status = 400 if form.errors else 200
    return render(request, "inbound/two_factor.html", context, status=status)


def _verified(request: HttpRequest, device: Any, *, enrolling: bool) -> HttpResponse:
    if enrolling:
        totp_device_confirm(device=device)
    request.session.cycle_key()  # a session that gains a factor gets a new key
    django_otp.login(request, device)
    audit_record(
        action="two_factor_enrolled" if enrolling else "two_factor_verified",
        obj=request.user,  # type: ignore[arg-type]
        request=request,
    )
    if enrolling:
        messages.success(
            request,
            _("Two-step verification is on: from now on, sign in with your password and a code."),
        )
    return HttpResponseRedirect(_next_url(request))


# --- API tokens -----------------------------------------------------------------------------


@never_cache  # a new token is shown once, on this response
@staff_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The member's API tokens: create one (shown once), see when each expires, revoke."""
    user: Any = request.user
    created_token = ""
    if request.method == "POST":
        if "create" not in request.POST:
            if "revoke" in request.POST:
                _token_revoke(request, key=request.POST["revoke"])
            return HttpResponseRedirect(reverse("staff_account:api-tokens"))
        created_token = _token_create(request)
    tokens = AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")
    return render(
        request,
        "inbound/api_tokens.html",
        _context(
            request,
            _("API tokens"),
            tokens=tokens,
            created_token=created_token,
            ttl_days=settings.API_TOKEN_TTL_DAYS,
            limit=settings.API_TOKENS_PER_USER,
        ),
        status=200,
    )


@transaction.atomic
def _token_create(request: HttpRequest) -> str:
    user: Any = request.user
    live = AuthToken.objects.select_for_update().filter(user=user, expiry__gt=timezone.now())
    if live.count() >= settings.API_TOKENS_PER_USER:
        messages.error(
            request,
            _("You already have %(limit)s tokens: revoke one you no longer use first.")
            % {"limit": settings.API_TOKENS_PER_USER},
        )
        return ""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    audit_record(
        action="api_token_created",
        obj=user,
        request=request,
        detail={"token": instance.token_key[:8], "expiry": instance.expiry.isoformat()},
    )
    return str(token)


def _token_revoke(request: HttpRequest, *, key: str) -> None:
    # Only the member's own tokens: a digest of someone else's answers like an unknown one.
    token = AuthToken.objects.filter(user=request.user, digest=key[:200]).first()
    if token is None:
        messages.error(request, _("That token does not exist any more."))
        return
    token.delete()
    audit_record(
        action="api_token_revoked",
        obj=request.user,  # type: ignore[arg-type]
        request=request,
        detail={"token": token.token_key[:8]},
    )
    messages.success(request, _("The token was revoked: it no longer works."))
