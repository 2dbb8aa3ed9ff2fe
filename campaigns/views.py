"""Public pages of `campaigns`: the unsubscribe link of every campaign e-mail."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.unsubscribe import UnsubscribeLinkInvalid, campaign_unsubscribe, unsubscribe_read
from contacts import rights
from contacts.views_public import private_page
from inbound.lib.ratelimit import rate_limit_hit


@csrf_exempt  # RFC 8058: mail providers POST here without cookies; the signed token protects it
@private_page
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links: a visit must not unsubscribe); POST unsubscribes,
    from our button or from the mail program's one-click button (RFC 8058)."""
    if rate_limit_hit(request=request, scope="campaigns.unsubscribe", limit=30, period=60):
        return render(request, "contacts/public/rate_limited.html", status=429)
    try:
        contact, campaign = unsubscribe_read(token)
    except UnsubscribeLinkInvalid:
        raise Http404 from None
    topic = campaign.topic if campaign.purpose == campaign.Purpose.TOPIC else None
    context = {
        "topic": topic,
        "preferences_url": rights.rights_url(
            contact=contact, purpose=rights.PREFERENCES, language=get_language()
        ),
    }
    if request.method == "GET":
        return render(request, "campaigns/unsubscribe.html", context)
    campaign_unsubscribe(contact=contact, campaign=campaign)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse(status=200)
    return render(request, "campaigns/unsubscribed.html", context)
