"""Click and open tracking of campaign e-mail, and the `email_sent` touchpoints of a send.

Clicks: when a campaign tracks clicks, compiling its e-mail (`campaigns.rendering`) numbers every
http(s) link of the body as a `CampaignLink` and points it at `/e/c/<token>/<link id>/` on the
institution's own site, in the HTML and the plain-text part alike (as HubSpot and Mautic do:
clicks from plain-text readers count too, and the address a careful reader checks is still the
institution's). The token is one short signature per recipient, naming the campaign and the
contact, shared by all links of the message: the link id in the path says which one. The
redirect goes only to the stored address of a link of the token's own campaign, never to an
address taken from the request, so it can't be used as an open redirect.

Opens: only when the campaign enables it (off by default: opens are unreliable, as mail
programs load or block images on their own, and invasive), an invisible 1×1 image at the end of
the HTML part, `/e/o/<token>/`.

Both record a touchpoint (`email_click`, `email_open`) and the delivery's first click or open,
but only for a recipient of the campaign whose contact was not erased, only while the campaign
still tracks it, and only for a GET (link checkers send HEAD) from a client under the rate limit;
anything else still redirects, or answers the image, and records nothing. Under Global Privacy
Control or Do Not Track the touchpoint is recorded without the contact, as on the rest of the site.

`email_sent` touchpoints are written per chunk, one INSERT after the chunk was sent: a sender
killed mid-chunk leaves its sent messages without one (the `Delivery` rows, which reports count,
still have them), which is the price of not writing a row per message in the send loop.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Max
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import base36_to_int, int_to_base36
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignLink, Delivery
from contacts.models import Contact
from contacts.selectors import may_track
from contacts.services import touchpoint_record, touchpoints_record_received
from inbound.lib.errors import DomainError
from inbound.lib.signatures import Signer

SALT = "campaigns.tracking"
_MARK = "inbound-tracking-token"  # reversed into the URLs, then swapped for the template's slot

# The start tag of a link and its attributes, values quoted or not (a ">" may sit inside
# quotes). Possessive quantifiers: no backtracking, whatever the body holds.
_ANCHOR = re.compile(
    r"""<a(?:\s++[^\s"'<>/=]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'<>]++))?+)*+\s*+/?>""",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""\s+([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+)))?""")
_MAX_URL = CampaignLink._meta.get_field("url").max_length or 2000

# The smallest transparent GIF (1×1, 43 bytes).
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


class TrackingLinkInvalid(DomainError):
    status = 404


# --- Tokens -------------------------------------------------------------------------------------


def tracking_token(*, campaign: Campaign, contact: Contact) -> str:
    """The recipient's token, shared by every tracked link of their message: the campaign and
    the contact in base 36 and one HMAC (a few microseconds; no JSON, no timestamp: the links
    of an old e-mail keep working; signed as Django signs, `inbound.lib.signatures`). A stand-in
    contact (a preview, a test send) is 0: nobody."""
    value = f"{int_to_base36(campaign.pk or 0)}.{int_to_base36(contact.pk or 0)}"
    return Signer(SALT).sign(value)


def tracking_read(token: str) -> tuple[int, int]:
    """The campaign and contact ids a token names, or TrackingLinkInvalid."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        campaign, contact = value.split(".")
        return base36_to_int(campaign), base36_to_int(contact)
    except (signing.BadSignature, ValueError):
        raise TrackingLinkInvalid(_("This link is not valid."), code="invalid") from None


# --- Compiling ----------------------------------------------------------------------------------


def _trackable(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme.lower() in {"http", "https"}
        and bool(parts.netloc)
        and "{{" not in url  # a personal address (merge tag) stays as it is
        and len(url) <= _MAX_URL
    )


def campaign_links(*, campaign: Campaign, urls: Sequence[str]) -> dict[str, int]:
    """The id of each address's `CampaignLink`, made when missing and numbered after the
    campaign's links so far (two senders compiling at once: the unique key keeps one row)."""
    wanted = list(dict.fromkeys(urls))
    known = dict(
        CampaignLink.objects.filter(campaign=campaign, url__in=wanted).values_list("url", "pk")
    )
    missing = [url for url in wanted if url not in known]
    if missing:
        last = CampaignLink.objects.filter(campaign=campaign).aggregate(n=Max("position"))["n"]
        start = (last or 0) + 1
        CampaignLink.objects.bulk_create(
            [
                CampaignLink(campaign=campaign, url=url, position=start + index)
                for index, url in enumerate(missing)
            ],
            ignore_conflicts=True,
        )
        known = dict(
            CampaignLink.objects.filter(campaign=campaign, url__in=wanted).values_list("url", "pk")
        )
    return known


def _href(tag: str) -> re.Match[str] | None:
    """The `href` attribute of a link's start tag (not one hidden in another's value)."""
    for attribute in _ATTRIBUTE.finditer(tag, 2):
        if attribute.group(1).lower() == "href":
            return attribute
    return None


def _url(attribute: re.Match[str]) -> str:
    value = next((v for v in attribute.groups()[1:] if v is not None), "")
    return html.unescape(value).strip()


def links_track(*, campaign: Campaign, body: str, slot: str) -> str:
    """The body with every http(s) link pointing at its tracked address; `slot` is where each
    recipient's token goes. Other links (mailto:, tel:, anchors, merge tags) stay as they are."""
    found: list[str] = []
    for anchor in _ANCHOR.finditer(body):
        href = _href(anchor.group())
        if href is not None and _trackable(_url(href)):
            found.append(_url(href))
    if not found:
        return body
    ids = campaign_links(campaign=campaign, urls=found)

    def tracked(link_id: int) -> str:
        path = reverse("campaigns_tracking:click", kwargs={"token": _MARK, "link": link_id})
        return f"{settings.SITE_URL}{path}".replace(_MARK, slot)

    def rewrite_anchor(match: re.Match[str]) -> str:
        tag = match.group()
        href = _href(tag)
        if href is None or _url(href) not in ids:
            return tag
        value = html.escape(tracked(ids[_url(href)]))
        return f'{tag[: href.start()]} href="{value}"{tag[href.end() :]}'

    return _ANCHOR.sub(rewrite_anchor, body)


def pixel_add(*, html_document: str, slot: str) -> str:
    """The HTML part with the open pixel at the end of its body; `slot` takes the token."""
    path = reverse("campaigns_tracking:open", kwargs={"token": _MARK})
    src = f"{settings.SITE_URL}{path}".replace(_MARK, slot)
    pixel = (
        f'<img alt="" src="{html.escape(src)}" width="1" height="1" '
        'style="display:block;width:1px;height:1px;border:0;">'
    )
    head, tag, tail = html_document.rpartition("</body>")
    return f"{head}{pixel}{tag}{tail}" if tag else html_document + pixel


# --- Clicks and opens ---------------------------------------------------------------------------


def link_target(*, campaign_id: int, link_id: int) -> CampaignLink:
    """The link of this campaign, or TrackingLinkInvalid (a link of another campaign too)."""
    link = (
        CampaignLink.objects.select_related("campaign")
        .filter(pk=link_id, campaign_id=campaign_id)
        .first()
    )
    if link is None:
        raise TrackingLinkInvalid(_("This link is not valid."), code="unknown")
    return link


def link_original(href: str) -> str | None:
    """The address a tracked link of a rendered message leads to, recording nothing; None when
    `href` is not a tracked link (for checks of the links an e-mail really points to)."""
    try:
        match = resolve(urlsplit(href).path)
    except Resolver404:
        return None
    if match.view_name != "campaigns_tracking:click":
        return None
    return (
        CampaignLink.objects.filter(pk=match.kwargs["link"]).values_list("url", flat=True).first()
    )


def email_click_record(*, contact_id: int, link: CampaignLink, anonymous: bool = False) -> bool:
    """An `email_click` touchpoint and the delivery's first click; False when nothing was
    recorded (the campaign stopped tracking clicks, or the recipient is unknown or erased).
    `anonymous` (the browser sent Global Privacy Control or Do Not Track): the click counts
    for the link, not for the person."""
    campaign = link.campaign
    if not campaign.track_clicks:
        return False
    properties = {"link": link.pk, "url": link.url}
    return _record("email_click", campaign, contact_id, properties, "clicked_at", anonymous)


def tracked_campaign(*, campaign_id: int) -> Campaign:
    """The campaign a token names, or TrackingLinkInvalid when it is gone."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise TrackingLinkInvalid(_("This link is not valid."), code="unknown")
    return campaign


def email_open_record(*, campaign: Campaign, contact_id: int, anonymous: bool = False) -> bool:
    """An `email_open` touchpoint and the delivery's first open; False when nothing was
    recorded (the campaign stopped tracking opens, or the recipient is unknown or erased).

    A pixel reads the recipient's device like a cookie does (ePrivacy art. 5.3, LSSI art. 22.2,
    as the AEPD reads them): the open is tied to the person only when they consented to
    tracking; otherwise it is counted for the campaign alone."""
    if not campaign.track_opens:
        return False
    return _record(
        "email_open", campaign, contact_id, {}, "opened_at", anonymous, needs_consent=True
    )


@transaction.atomic
def _record(
    kind: str,
    campaign: Campaign,
    contact_id: int,
    properties: dict[str, Any],
    first: str,
    anonymous: bool,
    *,
    needs_consent: bool = False,
) -> bool:
    # Only a recipient counts: a preview or a test send names a contact who has no delivery.
    delivery = (
        Delivery.objects.select_related("contact")
        .filter(campaign=campaign, contact_id=contact_id, contact__anonymised_at__isnull=True)
        .first()
    )
    if delivery is None:
        return False
    if needs_consent and not may_track(contact=delivery.contact):
        anonymous = True
    now = timezone.now()
    touchpoint_record(
        kind=kind,
        contact=None if anonymous else delivery.contact,
        subject=campaign,
        properties=properties,
        occurred_at=now,
    )
    if not anonymous:
        # The first one only, whatever runs at the same time: unique counts in reports.
        Delivery.objects.filter(pk=delivery.pk, **{f"{first}__isnull": True}).update(**{first: now})
    return True


# --- Sent ---------------------------------------------------------------------------------------


def email_sent_record(*, campaign: Campaign, deliveries: Sequence[Delivery]) -> int:
    """One `email_sent` touchpoint per delivery just sent, in one INSERT.

    Receiving an e-mail is not the contact's own doing: their last activity and derived data
    (lifecycle stage, persona) stay as they are. The Message-ID stays on the delivery, which
    (campaign, contact) names.
    """
    return touchpoints_record_received(
        kind="email_sent", contact_ids=[d.contact_id for d in deliveries], subject=campaign
    )
