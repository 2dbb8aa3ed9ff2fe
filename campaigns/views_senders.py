"""The page that confirms a sender address: the link e-mailed by `campaigns.senders`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from campaigns.sender_links import (
    VERIFICATION_MAX_AGE,
    SenderLinkExpired,
    SenderLinkInvalid,
    sender_read,
)
from campaigns.senders import sender_verify
from contacts.views_public import private_page
from inbound.lib.ratelimit import rate_limit_hit


@private_page
@require_http_methods(["GET", "POST"])
def sender_verify_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links: a visit must not verify); POST verifies."""
    if rate_limit_hit(request=request, scope="campaigns.sender-verify", limit=30, period=60):
        return render(request, "contacts/public/rate_limited.html", status=429)
    try:
        sender = sender_read(token)
    except SenderLinkInvalid:
        raise Http404 from None
    except SenderLinkExpired:
        return render(
            request,
            "campaigns/sender_link_expired.html",
            {"max_age_days": VERIFICATION_MAX_AGE.days},
            status=410,
        )
    if request.method == "POST":
        sender_verify(sender=sender)
        sender.refresh_from_db()
    context = {"sender": sender, "verified": sender.is_verified}
    return render(request, "campaigns/sender_verify.html", context)
