from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from content.services import content_publish_due as publish_due


@shared_task
def content_publish_due() -> int:
    """Beat entry (every minute): make scheduled content live."""
    return publish_due(timezone.now())
