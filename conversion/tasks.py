"""Celery tasks of `conversion`: the outbox relay that sends submissions' side effects, and the
tracking of anonymous touchpoints."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.apps import apps

from contacts.services import touchpoint_record
from conversion import outbox

# `ab_conversion`: a submission under an A/B test, counted anonymously against the arm's views
# (conversion.abtests), so the submission itself need not keep the visitor key.
TRACKED_KINDS = frozenset({"page_view", "cta_impression", "cta_click", "ab_conversion"})


@shared_task(name="conversion.tasks.effects_sweep")
def effects_sweep() -> int:
    """The outbox relay: send the due side effects of submissions, including retries and
    whatever waited through a broker outage. Run when a submission commits (`conversion.wake`)
    and every 2 s by beat."""
    return outbox.effects_due()


@shared_task(name="conversion.tasks.tracking_touchpoint_record")
def tracking_touchpoint_record(
    *, kind: str, subject: str, subject_id: int, visitor_key: str, properties: dict[str, Any]
) -> bool:
    """A page view, CTA impression or click, off the request (the `tracking` queue, by name),
    queued by `conversion.tracking.touchpoint_enqueue`; False when its subject has gone."""
    if kind not in TRACKED_KINDS:
        raise ValueError(f"not a tracked kind: {kind}")
    target = apps.get_model(subject)._default_manager.filter(pk=subject_id).first()
    if target is None:
        return False
    touchpoint_record(kind=kind, visitor_key=visitor_key, subject=target, properties=properties)
    return True
