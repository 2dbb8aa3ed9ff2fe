"""Public pages of `campaigns`: the unsubscribe link of every campaign e-mail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.unsubscribe import UnsubscribeLinkInvalid, campaign_unsubscribe, unsubscribe_read
from contacts import links
from contacts.views_public import link_invalid, private_page
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
        return link_invalid(request, purpose=links.PREFERENCES, status=404)
    topic = campaign.topic if campaign.purpose == campaign.Purpose.TOPIC else None
    # Where to choose what one receives: the page that e-mails a preference link to the
    # address typed there. An unsubscribe link (which never expires, and may sit in a forwarded
    # e-mail) must not open the preference centre itself.
    context = {"topic": topic, "preferences_url": reverse("contacts_public:preferences-request")}
    if request.method == "GET":
        return render(request, "campaigns/unsubscribe.html", context)
    campaign_unsubscribe(contact=contact, campaign=campaign)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse(status=200)
    return render(request, "campaigns/unsubscribed.html", context)
