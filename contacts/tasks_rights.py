"""Celery tasks for citizens' rights: the emailed links and the nightly retention sweep."""

from __future__ import annotations

from celery import shared_task

from contacts.links import rights_link_email
from contacts.links import used_tokens_purge as purge
from contacts.models import Contact
from contacts.rights import contacts_retention_sweep as sweep


@shared_task(queue="email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_rights_link(*, contact_id: int, purpose: str, language: str) -> None:
    """Email a link the citizen asked for: preference centre, data download or erasure."""
    contact = Contact.objects.filter(pk=contact_id, anonymised_at__isnull=True).first()
    if contact is not None:
        rights_link_email(contact=contact, purpose=purpose, language=language)


@shared_task
def contacts_retention_sweep() -> int:
    """Anonymise contacts kept past CONTACT_RETENTION_MONTHS without consent or activity."""
    return sweep()


@shared_task
def used_tokens_purge() -> int:
    """Forget the used single-use links that would have expired anyway."""
    return purge()
