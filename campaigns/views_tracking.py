"""The redirect of a tracked link and the open pixel (`campaigns.tracking`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from campaigns import tracking
from contacts.views_public import private_page
from inbound.lib.ratelimit import rate_limit_hit
from inbound.visitors import tracking_refused


def _records(request: HttpRequest) -> bool:
    # HEAD is what link checkers and previewers send. A client over the limit still reaches the
    # page (an office or a mobile network shares one address) but stops being counted.
    return request.method == "GET" and not rate_limit_hit(
        request=request, scope="campaigns.tracking", limit=60, period=60
    )


def _anonymous(request: HttpRequest) -> bool:
    # As on the rest of the site (inbound.visitors): counted, but not tied to the person.
    return tracking_refused(request)


@private_page  # never cached (each click must reach us), no Referer with the token
@require_safe
def click(request: HttpRequest, token: str, link: int) -> HttpResponse:
    """302 to the stored address of the campaign's link; a forged token or a link of another
    campaign is 404, and nothing ever redirects to an address taken from the request."""
    try:
        campaign_id, contact_id = tracking.tracking_read(token)
        target = tracking.link_target(campaign_id=campaign_id, link_id=link)
    except tracking.TrackingLinkInvalid:
        raise Http404 from None
    if _records(request):
        tracking.email_click_record(
            contact_id=contact_id, link=target, anonymous=_anonymous(request)
        )
    return HttpResponseRedirect(target.url)


@private_page
@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The invisible image of a campaign that tracks opens."""
    try:
        campaign_id, contact_id = tracking.tracking_read(token)
        campaign = tracking.tracked_campaign(campaign_id=campaign_id)
    except tracking.TrackingLinkInvalid:
        raise Http404 from None
    if _records(request):
        tracking.email_open_record(
            campaign=campaign, contact_id=contact_id, anonymous=_anonymous(request)
        )
    return HttpResponse(tracking.PIXEL, content_type="image/gif")
