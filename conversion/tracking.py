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

from django.db import models, transaction
from django.http import HttpRequest

from contacts.models import Contact
from contacts.selectors import may_track
from conversion.tasks import tracking_touchpoint_record
from inbound.lib.broker import request_publish
from inbound.visitors import visitor_key

logger = logging.getLogger(__name__)


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
    payload = {
        "kind": kind,
        "subject": subject._meta.label_lower,
        "subject_id": subject.pk,
        "visitor_key": visitor_key(request),
        "properties": {"language": getattr(request, "LANGUAGE_CODE", ""), **(properties or {})},
    }

    def enqueue() -> None:
        try:
            request_publish(tracking_touchpoint_record.name, kwargs=payload)
        except Exception as error:
            # A visit counted is never worth an error page: whatever the broker answers (refused,
            # or a pooled connection reset as it stops), the page is served.
            logger.warning("%s touchpoint not recorded: broker unavailable (%r)", kind, error)

    transaction.on_commit(enqueue)
