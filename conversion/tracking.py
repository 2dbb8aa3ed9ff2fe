"""Anonymous counting for conversion rates: page views of forms and landing pages, and the
impressions and clicks of calls to action.

Nothing here sets a cookie. The visitor key is the keyed hash of the IP address
(`request_ip_hash`), left empty under Global Privacy Control or Do Not Track. The touchpoint is
written by a task on the `tracking` queue, so the page does not wait for it; when the broker is
down this one view is not counted and the page is served as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.http import HttpRequest
from kombu.exceptions import OperationalError as BrokerUnavailable

from contacts.services import touchpoint_record
from inbound.lib.privacy import request_ip_hash

logger = logging.getLogger(__name__)

TRACKED_KINDS = frozenset({"page_view", "cta_impression", "cta_click"})


def visitor_key(request: HttpRequest) -> str:
    """The hashed address, or nothing when the browser asks not to be tracked."""
    if request.headers.get("Sec-GPC") == "1" or request.headers.get("DNT") == "1":
        return ""
    return request_ip_hash(request)


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
