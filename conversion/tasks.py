"""Celery tasks of `conversion`: send a submission's side effects, and the periodic sweeper."""

from __future__ import annotations

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
