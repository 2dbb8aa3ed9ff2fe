"""Anonymous counting for conversion rates (page views of forms and landing pages, the
impressions and clicks of calls to action, A/B conversions), and what a citizen's own rows keep
of the visitor.

Nothing here sets a cookie. The visitor key is the day's salted hash of the site, address and
user agent (`inbound.visitors`), left empty under Global Privacy Control or Do Not Track. The
anonymous touchpoints are written by a task on the `tracking` queue, so the page does not wait
for them; when the broker is down this one view is not counted and the page is served as usual.

A key on a contact's rows (their submission, touchpoints) would tie them to everything that
visitor did that day, so it is kept there only with the contact's tracking consent.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.http import HttpRequest
from kombu.exceptions import OperationalError as BrokerUnavailable

from contacts.models import Contact
from contacts.selectors import may_track
from contacts.services import touchpoint_record
from inbound.visitors import visitor_key

logger = logging.getLogger(__name__)

# `ab_conversion`: a submission under an A/B test, counted anonymously against the arm's views
# (conversion.abtests), so the submission itself need not keep the visitor key.
TRACKED_KINDS = frozenset({"page_view", "cta_impression", "cta_click", "ab_conversion"})


def submission_visitor_key(request: HttpRequest, *, tracking_granted: bool) -> str:
    """The key a submission keeps: today's, only when the citizen ticked the tracking consent
    in it (the key then links their same-day visits: `contacts.services.identity_stitch`), and
    never under GPC/DNT. Otherwise nothing: the submission is accepted all the same."""
    return visitor_key(request) if tracking_granted else ""


def contact_visitor_key(request: HttpRequest, *, contact: Contact | None) -> str:
    """The key for a touchpoint about `contact`: only if they allow tracking (anonymous rows
    always get it, GPC/DNT aside)."""
    if contact is not None and not may_track(contact=contact):
        return ""
    return visitor_key(request)


def touchpoint_enqueue(
    request: HttpRequest,
    *,
    kind: str,
    subject: models.Model,
    properties: dict[str, Any] | None = None,
) -> None:
    """Queue an anonymous touchpoint about `subject` (a form, landing page or CTA)."""
    from conversion.tasks import tracking_touchpoint_record

    payload = {
        "kind": kind,
        "subject": subject._meta.label_lower,
        "subject_id": subject.pk,
        "visitor_key": visitor_key(request),
        "properties": {"language": getattr(request, "LANGUAGE_CODE", ""), **(properties or {})},
    }

    def enqueue() -> None:
        try:
            tracking_touchpoint_record.apply_async(kwargs=payload, retry=False)
        except BrokerUnavailable:
            logger.warning("%s touchpoint not recorded: the broker is unavailable", kind)

    transaction.on_commit(enqueue)


def tracked_touchpoint_record(
    *, kind: str, subject: str, subject_id: int, visitor_key: str, properties: dict[str, Any]
) -> bool:
    """Write a queued touchpoint; False when its subject has gone (deleted since)."""
    if kind not in TRACKED_KINDS:
        raise ValueError(f"not a tracked kind: {kind}")
    model = apps.get_model(subject)
    target = model._default_manager.filter(pk=subject_id).first()
    if target is None:
        return False
    touchpoint_record(kind=kind, visitor_key=visitor_key, subject=target, properties=properties)
    return True
