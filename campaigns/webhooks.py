"""What ESPs tell us through django-anymail's webhooks: bounces, complaints, unsubscribes, and
the mailto: unsubscribe messages people send to CAMPAIGNS_UNSUBSCRIBE_MAILTO.

Anymail turns each ESP's payload into one normalised event and sends the `tracking` (or
`inbound`) signal; the receivers here apply it (`campaigns.suppression`):

| anymail event | here |
|---|---|
| `bounced` (hard), `rejected` for an invalid or bounced address | contact and delivery BOUNCED |
| `bounced` with a 4xx reply or a soft-bounce type, `deferred` | nothing: it may yet arrive |
| `complained`, `rejected` for a previous complaint | COMPLAINED, consent withdrawn |
| `unsubscribed`, `rejected` for a previous unsubscribe | our unsubscribe |
| `rejected` by ESP policy, anything else | nothing |

The delivery is found by the message id the ESP quotes (stored in `Delivery.message_id` when it
was sent; `inbound.lib.mailing.send_prepared`), the contact through it, else by the recipient's
address. A bounce for an address the contact no longer has marks only the delivery.

The URLs are anymail's own (`anymail/<esp>/tracking/`, `…/inbound/`), each wrapped so that the
webhooks answer 404 until `ANYMAIL_WEBHOOK_SECRET` (HTTP basic auth, "user:password") is set, and
a payload that can't be read answers 400 instead of a server error. An error while applying a
readable event still answers 500, which every ESP takes as "try again later".
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from anymail.utils import get_anymail_setting
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern, URLResolver

from campaigns.headers import mailto_token
from campaigns.models import Delivery
from campaigns.suppression import (
    bounce_record,
    complaint_record,
    smtp_reply_is_transient,
    unsubscribe_record,
)
from campaigns.unsubscribe import UnsubscribeLinkInvalid, campaign_unsubscribe, unsubscribe_read
from contacts.models import Contact
from contacts.selectors import contact_by_email

logger = logging.getLogger(__name__)

BOUNCE, COMPLAINT, UNSUBSCRIBE = "bounce", "complaint", "unsubscribe"
# ESP bounce types that are soft whatever anymail calls them (Postmark sends its soft bounces
# as "bounced", to be followed by a hard one if they persist).
_SOFT_TYPES = {"SoftBounce", "Transient", "DnsError"}
_REJECTED = {
    RejectReason.INVALID: BOUNCE,
    RejectReason.BOUNCED: BOUNCE,
    RejectReason.SPAM: COMPLAINT,
    RejectReason.UNSUBSCRIBED: UNSUBSCRIBE,
}
# Raised while anymail reads a payload: the payload is bad, not our code or database.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError)
_applying: ContextVar[bool] = ContextVar("campaigns_webhook_applying", default=False)


def event_meaning(event: AnymailTrackingEvent) -> str:
    """BOUNCE, COMPLAINT, UNSUBSCRIBE, or "" for an event that changes nothing here."""
    if event.event_type == EventType.BOUNCED:
        esp_type = event.esp_event.get("Type") if isinstance(event.esp_event, dict) else None
        if esp_type in _SOFT_TYPES or smtp_reply_is_transient(event.mta_response or ""):
            return ""
        return BOUNCE
    if event.event_type == EventType.REJECTED:
        return _REJECTED.get(event.reject_reason or "", "")
    if event.event_type == EventType.COMPLAINED:
        return COMPLAINT
    if event.event_type == EventType.UNSUBSCRIBED:
        return UNSUBSCRIBE
    return ""


def _delivery(message_id: str | None) -> Delivery | None:
    if not message_id:
        return None
    bare = str(message_id).strip().strip("<>")
    if not bare:
        return None
    return (
        Delivery.objects.filter(message_id__in=[bare, f"<{bare}>"])
        .select_related("contact", "campaign__topic")
        .first()
    )


def tracking_event_apply(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Apply one normalised tracking event; False when it changed nothing."""
    meaning = event_meaning(event)
    if not meaning:
        return False
    delivery = _delivery(event.message_id)
    recipient = (event.recipient or "").strip().lower()
    contact: Contact | None
    if delivery is not None:
        contact = delivery.contact
        if recipient and (contact.email or "").lower() != recipient:
            contact = None  # the report is about an address the contact no longer has
    else:
        contact = contact_by_email(recipient) if recipient else None
    if contact is not None and contact.is_anonymised:
        contact = None
    if delivery is None and contact is None:
        logger.info("%s %s event for an unknown message and address", esp_name, meaning)
        return False
    source = esp_name.lower()
    reason = str(event.mta_response or event.description or event.reject_reason or "")
    if meaning == BOUNCE:
        return bounce_record(contact=contact, delivery=delivery, reason=reason, source=source)
    if meaning == COMPLAINT:
        return complaint_record(contact=contact, delivery=delivery, reason=reason, source=source)
    if contact is None:
        return False
    return unsubscribe_record(contact=contact, delivery=delivery, source=source)


def tracking_received(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    _applying.set(True)
    tracking_event_apply(event=event, esp_name=esp_name)


def inbound_received(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    """A message to the List-Unsubscribe mailto: address: the token in its subject unsubscribes
    like the link does (the token is the proof, as for the link). Other messages are ignored."""
    _applying.set(True)
    message = event.message
    token = mailto_token(str(message.get("Subject") or "")) if message is not None else ""
    if not token:
        return
    try:
        contact, campaign = unsubscribe_read(token)
    except UnsubscribeLinkInvalid:
        logger.info("%s inbound unsubscribe with an invalid token", esp_name)
        return
    campaign_unsubscribe(contact=contact, campaign=campaign)


def _guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)  # keeps anymail's csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not get_anymail_setting("webhook_secret", default=None):
            raise Http404  # off until basic auth protects them
        reset = _applying.set(False)
        try:
            return view(request, *args, **kwargs)
        except (*_UNREADABLE, AnymailConfigurationError):
            if _applying.get():
                raise
            logger.warning("anymail webhook %s: unreadable payload", request.path)
            return HttpResponseBadRequest()
        finally:
            _applying.reset(reset)

    return wrapper


def webhook_urlpatterns() -> list[URLPattern | URLResolver]:
    """anymail's webhook URLs, each view `_guarded`; include them as namespace "anymail"."""
    patterns: list[URLPattern | URLResolver] = []
    for pattern in anymail_urls.urlpatterns:
        if isinstance(pattern, URLPattern):
            pattern = URLPattern(
                pattern.pattern, _guarded(pattern.callback), pattern.default_args, pattern.name
            )
        patterns.append(pattern)
    return patterns
