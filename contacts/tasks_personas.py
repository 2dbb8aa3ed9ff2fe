"""Periodic jobs for derived contact data: persona assignment and lifecycle stages.

Both are idempotent (they recompute from the data), so a redelivered task does no harm.
"""

from __future__ import annotations

from celery import shared_task

from contacts.derived import derived_refresh_pending
from contacts.lifecycle import contacts_lifecycle_refresh
from contacts.personas import personas_assign


@shared_task
def personas_assign_all() -> int:
    """Give every contact the first persona whose rules they match."""
    return personas_assign()


@shared_task
def lifecycle_refresh() -> int:
    """Recompute every contact's lifecycle stage (nightly: windows slide even without events)."""
    return contacts_lifecycle_refresh()


@shared_task
def derived_refresh() -> int:
    """Recompute the stage and persona of contacts queued by their latest touchpoints."""
    return derived_refresh_pending()
