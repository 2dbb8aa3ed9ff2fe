"""Celery tasks of `campaigns` (the `email` queue, by name)."""

from __future__ import annotations

from celery import shared_task

from campaigns import sending


@shared_task(name="campaigns.tasks.send_due")
def send_due() -> int:
    """Every 2 s: start scheduled campaigns and send what is due (the sending engine). A tick
    that used its whole budget queues the next one at once: a big send never waits for beat."""
    result = sending.campaigns_send_due()
    if result.more:
        send_due.apply_async(expires=60)
    return result.sent
