from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from content.search import search_record
from content.services import content_publish_due as publish_due


@shared_task
def content_publish_due() -> int:
    """Beat entry (every minute): make scheduled content live."""
    return publish_due(timezone.now())


@shared_task
def tracking_search_record(*, query: str, results: int, language: str, visitor_key: str) -> None:
    """One site search as a `search` touchpoint, off the request (the `tracking` queue, by
    name). The view passes the query already scrubbed of personal data."""
    search_record(query=query, results=results, language=language, visitor_key=visitor_key)
