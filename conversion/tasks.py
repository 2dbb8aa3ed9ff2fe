"""Celery tasks of `conversion`: the outbox relay that sends submissions' side effects, and the
tracking of anonymous touchpoints."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from conversion import outbox


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
    """A page view, CTA impression or click, off the request (the `tracking` queue, by name)."""
    from conversion.tracking import tracked_touchpoint_record

    return tracked_touchpoint_record(
        kind=kind,
        subject=subject,
        subject_id=subject_id,
        visitor_key=visitor_key,
        properties=properties,
    )
