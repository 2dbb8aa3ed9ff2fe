"""Celery tasks of `conversion`: send a submission's side effects, and the periodic sweeper."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from conversion import services


# Named email_* so that CELERY_TASK_ROUTES puts it on the email queue.
@shared_task(name="conversion.tasks.email_effects_process", queue="email")
def effects_process(submission_id: int) -> int:
    """Send the side effects of a submission just stored (retries are the outbox's)."""
    return services.effects_process(submission_id)


@shared_task(name="conversion.tasks.effects_sweep")
def effects_sweep() -> int:
    """Every minute: send due side effects, including those left by a broker outage."""
    return services.effects_due()


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
