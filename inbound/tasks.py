from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from inbound.models import WorkerHeartbeat


@shared_task(bind=True)
def heartbeat(self, *, name: str) -> None:  # type: ignore[no-untyped-def]
    """Record that a worker consumed this queue now (beat sends one per queue)."""
    WorkerHeartbeat.objects.update_or_create(
        name=name[:100],
        defaults={"beat_at": timezone.now(), "worker": (self.request.hostname or "")[:200]},
    )


@shared_task
def login_attempts_prune() -> None:
    """Drop lockout records older than the cool-off: they only serve the lockout itself."""
    from axes.models import AccessAttempt
    from django.conf import settings

    cutoff = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()


@shared_task
def visitor_salts_rotate() -> None:
    """Today's visitor salt made, salts past their two days deleted (`inbound.visitors`)."""
    from inbound import visitors

    visitors.visitor_salts_rotate()


@shared_task
def retention_purge() -> dict[str, int]:
    """Personal data kept past its RETENTION, deleted or redacted (`inbound.retention`)."""
    from inbound import retention

    return retention.retention_purge()
