"""Keeping a contact's derived data (lifecycle stage, persona) current as they act.

Writes that may change it (a touchpoint of an engaging kind, new data from a form or an import)
queue the contact in `DerivedRefresh`, inside their own transaction. A beat task drains the
queue every few seconds with one set-based refresh per batch: the request that caused the change
pays one INSERT, and a thousand submissions a minute cost a handful of UPDATEs. A stage or
persona may therefore lag the fact by a few seconds; the nightly full refresh is the backstop.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from contacts.models import Contact, DerivedRefresh

# Touchpoints after which a contact's lifecycle stage or persona may have changed.
REFRESHING_KINDS = frozenset(
    {
        "email_click",
        "cta_click",
        "form_submit",
        "survey_response",
        "optin_confirmed",
        "unsubscribe",
        "preferences_updated",
    }
)
BATCH_SIZE = 2000


def derived_refresh_queue(*, contact_ids: Iterable[int]) -> None:
    """Queue contacts for recomputation; already queued ones stay queued once."""
    rows = [DerivedRefresh(contact_id=pk) for pk in dict.fromkeys(contact_ids)]
    if rows:
        DerivedRefresh.objects.bulk_create(rows, ignore_conflicts=True)


def derived_refresh_pending(*, batch_size: int = BATCH_SIZE) -> int:
    """Recompute the stage and persona of queued contacts, a batch per transaction; returns
    how many were refreshed.

    Rows are claimed with SKIP LOCKED, so two ticks never share a batch; a contact queued again
    while its batch runs waits for that batch to commit and is refreshed by the next one.
    """
    total = 0
    while True:
        refreshed = _batch_refresh(batch_size)
        total += refreshed
        if refreshed < batch_size:
            return total


@transaction.atomic
def _batch_refresh(batch_size: int) -> int:
    from contacts.lifecycle import contacts_lifecycle_refresh
    from contacts.personas import personas_assign

    ids = list(
        DerivedRefresh.objects.select_for_update(skip_locked=True)
        .order_by("queued_at")
        .values_list("contact_id", flat=True)[:batch_size]
    )
    if not ids:
        return 0
    DerivedRefresh.objects.filter(contact_id__in=ids).delete()
    contacts = Contact.objects.filter(pk__in=ids)
    contacts_lifecycle_refresh(contacts=contacts)
    personas_assign(contacts=contacts)
    return len(ids)
