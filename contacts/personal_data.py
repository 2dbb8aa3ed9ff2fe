"""What `contacts` holds about citizens, declared in the personal-data registry
(`inbound.lib.personal_data`): how erasure, the access export and retention treat each model."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inbound.lib.personal_data import (
    Erase,
    Holder,
    Identity,
    Retention,
    exempt_field,
    exempt_models,
    register,
)


def _contact_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    from contacts.rights import contact_summary

    return [contact_summary(contact=c) for c in rows.select_related("persona")]


def _subscriptions_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "topic": s.topic.slug,
            "topic_name": s.topic.name,
            "status": s.status,
            "frequency": s.frequency,
            "created_at": s.created_at.isoformat(),
            "updated_at": s.updated_at.isoformat(),
        }
        for s in rows.select_related("topic").order_by("topic__slug")
    ]


def _consents_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": c.occurred_at.isoformat(),
            "purpose": c.purpose,
            "topic": c.topic.slug if c.topic else None,
            "action": c.action,
            "legal_basis": c.legal_basis,
            "text": c.text,
            "text_version": c.text_version,
            "source": c.source,
        }
        for c in rows.select_related("topic").order_by("occurred_at", "id")
    ]


def _touchpoints_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": t.occurred_at.isoformat(),
            "kind": t.kind,
            "stage": t.stage,
            "properties": t.properties,
        }
        for t in rows.order_by("occurred_at", "id")
    ]


def _touchpoints_unlink(rows: QuerySet[Any], identity: Identity) -> None:
    # Kept for statistics, but no longer anyone's: identity stitching must not re-attach them.
    rows.update(contact=None)


def _tags_clear(rows: QuerySet[Any], identity: Identity) -> None:
    from contacts.models import Contact

    Contact.tags.through.objects.filter(contact_id=identity.contact_id).delete()


def _import_reports(identity: Identity) -> QuerySet[Any]:
    """Import jobs whose row-error report quotes the person's address (import files are
    deleted once imported, so the report is the only trace an import leaves)."""
    from contacts.models import ImportJob

    if not identity.email:
        return ImportJob.objects.none()
    ids = [
        pk
        for pk, errors in ImportJob.objects.exclude(errors=[]).values_list("pk", "errors")
        if identity.email in str(errors).lower()
    ]
    return ImportJob.objects.filter(pk__in=ids)


def _import_rows_redact(rows: QuerySet[Any], identity: Identity) -> None:
    """A report's rows about the person lose their values (the row number and errors stay);
    other people's rows in the same report are left as they are."""
    for job in rows.only("pk", "errors"):
        errors = [
            identity.scrub(entry) if identity.email in str(entry).lower() else entry
            for entry in job.errors
        ]
        type(job).objects.filter(pk=job.pk).update(errors=errors)


register(
    Holder(
        model="contacts.Contact",
        contact="self",
        fields=(
            "email",
            "email_status",
            "first_name",
            "last_name",
            "phone",
            "postal_code",
            "district",
            "birth_year",
            "properties",
            "email_verified_at",
            "email_paused_until",
            "last_activity_at",
            "persona",
        ),
        erase=Erase.REDACT,
        redact=_tags_clear,
        export="contact",
        exporter=_contact_export,
        note="The row stays, with no one's data, so aggregates still add up; erased by "
        "contacts.rights.contact_anonymise, which also keeps a tombstone.",
    ),
    Holder(
        model="contacts.Subscription",
        contact="contact",
        fields=("topic", "status", "frequency"),
        erase=Erase.DELETE,
        export="subscriptions",
        exporter=_subscriptions_export,
    ),
    Holder(
        model="contacts.ConsentRecord",
        contact="contact",
        fields=("text", "ip_hash"),
        erase=Erase.KEEP,
        export="consents",
        exporter=_consents_export,
        note="The ledger is proof of what was agreed (RGPD art. 7.1): append-only, it stays on "
        "the anonymised row, which no longer says who.",
    ),
    Holder(
        model="contacts.Touchpoint",
        contact="contact",
        fields=("visitor_key",),
        scrub=("properties",),
        erase=Erase.REDACT,
        redact=_touchpoints_unlink,
        export="touchpoints",
        exporter=_touchpoints_export,
        retention=(
            # Searches typed on the site are kept a shorter time than other interactions.
            Retention("search_queries", "occurred_at", {"kind": "search"}),
            Retention("touchpoints", "occurred_at"),
        ),
    ),
    Holder(
        model="contacts.SegmentMember",
        contact="contact",
        fields=("segment",),
        erase=Erase.DELETE,
        note="Static lists are shown in the contact section of the export.",
    ),
    Holder(
        model="contacts.SnapshotMember",
        contact="contact",
        fields=(),
        erase=Erase.KEEP,
        note="A segment's members on a date, by contact id only: once the contact row is "
        "anonymised it names no one, and past reports keep their sizes.",
    ),
    Holder(
        model="contacts.DerivedRefresh",
        contact="contact",
        fields=(),
        erase=Erase.DELETE,
        note="A queue of contacts whose stage and persona must be recomputed.",
    ),
    Holder(
        model="contacts.ImportJob",
        rows=_import_reports,
        fields=("file", "errors"),
        erase=Erase.KEEP,
        redact=_import_rows_redact,
        retention=(Retention("imports", action=Erase.REDACT),),
        note="Staff's import reports: the rows that quote the person are scrubbed.",
    ),
)

exempt_field(
    "contacts.Tombstone.email_hash",
    why="a keyed hash of an erased address, kept so that no import brings the person back",
)
exempt_field("contacts.ImportJob.original_name", why="the name staff gave the uploaded file")
exempt_field("contacts.ImportJob.mapping", why="which column feeds which field")
exempt_field(
    "contacts.ImportJob.header",
    why="the file's first row, emptied when the import ends or the upload is purged",
)
exempt_field("contacts.Persona.picture", why="an illustration of a fictional persona")
exempt_field("contacts.Persona.rules", why="segment rules")
exempt_field("contacts.Segment.rules", why="segment rules")
exempt_field("contacts.ContactProperty.choices", why="the choices of a custom property")
exempt_models(
    {
        "contacts.Tag": "labels staff define",
        "contacts.Topic": "the institution's taxonomy of interests",
        "contacts.Persona": "fictional citizen personas",
        "contacts.ContactProperty": "definitions of custom properties",
        "contacts.Segment": "segment definitions",
        "contacts.SegmentSnapshot": "a segment's size on a date",
        "contacts.UsedToken": "one-way hashes of spent single-use links, purged hourly",
        "contacts.Tombstone": "keyed hashes of erased addresses",
    }
)
