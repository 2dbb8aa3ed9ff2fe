"""What the platform package holds about people, declared in the personal-data registry
(`inbound.lib.personal_data`), and Django's own admin history of changes to contacts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inbound.lib.personal_data import Erase, Holder, Identity, exempt_field, exempt_models, register


def _admin_history(identity: Identity) -> QuerySet[Any]:
    """Django admin's history names the object it changed as `str(contact)`: name <e-mail>."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from contacts.models import Contact

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(identity.contact_id),
    )


register(
    Holder(
        model="admin.LogEntry",
        rows=_admin_history,
        fields=(),
        scrub=("object_repr", "change_message"),
        erase=Erase.REDACT,
        note="Staff's history of changes: kept, without the person's name or address.",
    ),
)

exempt_field(
    "inbound.AuditEntry.ip_hash", why="a keyed hash of a staff member's IP (accountability)"
)
exempt_field(
    "inbound.AuditEntry.detail",
    why="append-only accountability log: names contacts by id only (Contact.audit_label)",
)
exempt_field("inbound.AuditEntry.actor_name", why="the staff member who acted")
exempt_field("inbound.AccessibilityStatement.contact_email", why="the institution's address")
exempt_field("inbound.AccessibilityStatement.contact_phone", why="the institution's phone")
exempt_models(
    {
        "inbound.AuditEntry": "staff's accountability log; contacts named by id only",
        "inbound.LegalPage": "the institution's legal texts",
        "inbound.AccessibilityStatement": "the institution's accessibility statement",
        "inbound.WorkerHeartbeat": "worker liveness",
        "inbound.VisitorSalt": "random daily salts of visitor keys, deleted after two days",
        "inbound.ApiToken": "staff's API tokens (hashed), deleted with the account",
        "inbound.TwoFactorDevice": "staff's authenticator secrets, deleted with the account",
    }
)
