"""Writes of the CRM. Every journey stage changes contacts only through these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.derived import REFRESHING_KINDS, derived_refresh_queue
from contacts.models import (
    ConsentRecord,
    Contact,
    SegmentMember,
    Subscription,
    Tag,
    Tombstone,
    Topic,
    Touchpoint,
)
from contacts.selectors import consent_is_granted, contacts_with_email, may_track
from contacts.signals import touchpoint_recorded
from contacts.validation import contact_fields_clean, email_hash, email_normalise, properties_clean
from inbound.audit import audit_record
from inbound.lib.errors import DomainError

# The journey stage of each known touchpoint kind; other kinds must name their stage.
KIND_STAGES: dict[str, str] = {
    "page_view": "attract",
    "search": "attract",
    "video_play": "attract",
    "cta_click": "convert",
    "cta_impression": "convert",
    "ab_conversion": "convert",  # anonymous: a submission under an A/B test (conversion.abtests)
    "form_submit": "convert",
    "optin_confirmed": "convert",
    "download": "convert",
    "email_sent": "serve",
    "email_open": "serve",
    "email_click": "serve",
    "unsubscribe": "serve",
    "preferences_updated": "serve",
    "bounce": "serve",
    "email_bounced": "serve",
    "email_complained": "serve",
    "workflow_enrolled": "serve",
    "workflow_finished": "serve",
    "survey_response": "delight",
    "mention": "delight",
}
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "language",
    "postal_code",
    "district",
    "birth_year",
)


class ConcurrentEditError(DomainError):
    status = 409


def _lock(email: str) -> Contact | None:
    return contacts_with_email(email).select_for_update().first()


@transaction.atomic
def contact_upsert(
    *,
    email: str,
    data: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    source: str = Contact.Source.MANUAL,
    verified: bool = False,
    respect_tombstones: bool = False,
    create_defaults: Mapping[str, Any] | None = None,
) -> tuple[Contact, bool]:
    """Create or update the contact with this email; returns (contact, created).

    Blank values never overwrite what we knew. `create_defaults` (contact fields) are used only
    when the contact is new, e.g. the language of the form that brought them. Raises
    ValidationError (messages per field) for bad input, and DomainError when
    `respect_tombstones` and the person asked to be erased.
    """
    email = email_normalise(email)
    fields = contact_fields_clean(data or {})
    props = properties_clean(properties or {})
    if respect_tombstones and Tombstone.objects.filter(email_hash=email_hash(email)).exists():
        raise DomainError(
            _("This person asked to be erased; they can only come back by signing up themselves."),
            code="erased",
        )
    now = timezone.now()
    contact = _lock(email)
    created = contact is None
    if contact is None:
        initial = {**contact_fields_clean(create_defaults or {}), **fields}
        try:
            with transaction.atomic():  # a savepoint: a concurrent insert must not poison ours
                contact = Contact.objects.create(
                    email=email,
                    source=source,
                    **initial,
                    properties=props,
                    email_verified_at=now if verified else None,
                )
        except IntegrityError:
            contact = _lock(email)
            if contact is None:
                raise
            created = False
    if not created:
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.properties = {**contact.properties, **props}
        contact.version = F("version") + 1
        if verified and contact.email_verified_at is None:
            contact.email_verified_at = now
        contact.save()
        contact.refresh_from_db()
    if tags:
        contact.tags.add(
            *[Tag.objects.get_or_create(name=t.strip()[:64])[0] for t in tags if t.strip()]
        )
    derived_refresh_queue(contact_ids=[contact.pk])
    return contact, created


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    data: Mapping[str, Any],
    expected_version: int,
    actor: Any = None,
    request: Any = None,
) -> Contact:
    """A staff edit of one contact. Refused if someone saved it since `expected_version`."""
    fields = contact_fields_clean(data)
    props = properties_clean(data.get("properties") or {})
    updated = Contact.objects.filter(pk=contact.pk, version=expected_version).update(
        **fields,
        properties={**contact.properties, **props},
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ConcurrentEditError(
            _(
                "Someone else changed this contact while you were editing. "
                "Reload it to see their changes; nothing was lost."
            ),
            code="conflict",
        )
    audit_record(
        action="contact_changed",
        actor=actor,
        obj=contact,
        request=request,
        detail={"fields": sorted([*fields, *(f"properties.{k}" for k in props)])},
    )
    contact.refresh_from_db()
    _persona_refresh_on_commit(contact)
    return contact


def _persona_refresh_on_commit(contact: Contact) -> None:
    """New data may move the contact to another persona; decided once the write commits."""
    from contacts.personas import contact_persona_assign

    transaction.on_commit(lambda: contact_persona_assign(contact=contact))


def consent_record(
    *,
    contact: Contact,
    purpose: str,
    action: str,
    legal_basis: str,
    text: str,
    text_version: str,
    source: str,
    topic: Topic | None = None,
    ip_hash: str = "",
    recorded_by: Any = None,
    occurred_at: datetime | None = None,
) -> ConsentRecord:
    """Append one grant or withdrawal to the ledger, with the exact text the person saw.

    Withdrawing the tracking consent also blanks the visitor keys on the contact's touchpoints:
    without that consent no key may tie them to anonymous visits (the touchpoints stay)."""
    if (purpose == ConsentRecord.Purpose.TOPIC) != (topic is not None):
        raise ValueError("a topic is given exactly for the TOPIC purpose")
    if not text.strip() or not text_version.strip():
        raise ValueError("consent needs the text shown and its version")
    if purpose == ConsentRecord.Purpose.TRACKING and action == ConsentRecord.Action.WITHDRAWN:
        Touchpoint.objects.filter(contact=contact).exclude(visitor_key="").update(visitor_key="")
    return ConsentRecord.objects.create(
        contact=contact,
        purpose=purpose,
        topic=topic,
        action=action,
        legal_basis=legal_basis,
        text=text,
        text_version=text_version,
        source=source,
        ip_hash=ip_hash,
        recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
        occurred_at=occurred_at or timezone.now(),
    )


@transaction.atomic
def subscription_set(*, contact: Contact, topic: Topic, status: str) -> Subscription:
    subscription, _created = Subscription.objects.select_for_update().get_or_create(
        contact=contact, topic=topic, defaults={"status": status}
    )
    if subscription.status != status:
        subscription.status = status
        subscription.save(update_fields=["status", "updated_at"])
    return subscription


@dataclass
class TouchpointIn:
    kind: str
    contact_id: int | None = None
    visitor_key: str = ""
    stage: str = ""
    subject: models.Model | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None


def _touchpoint(row: TouchpointIn) -> Touchpoint:
    stage = row.stage or KIND_STAGES.get(row.kind, "")
    if stage not in Touchpoint.Stage.values:
        raise ValidationError(
            _("Unknown touchpoint kind %(kind)s: give its stage."), params={"kind": row.kind}
        )
    subject_type = subject_id = None
    if row.subject is not None:
        subject_type = ContentType.objects.get_for_model(row.subject)
        subject_id = str(row.subject.pk)
    return Touchpoint(
        kind=row.kind[:40],
        stage=stage,
        contact_id=row.contact_id,
        visitor_key=row.visitor_key[:64],
        subject_type=subject_type,
        subject_id=subject_id or "",
        properties=row.properties,
        occurred_at=row.occurred_at or timezone.now(),
    )


def _announce(touchpoints: list[Touchpoint]) -> None:
    def send() -> None:
        for touchpoint in touchpoints:
            touchpoint_recorded.send(sender=Touchpoint, touchpoint=touchpoint)

    transaction.on_commit(send)


def _mark_activity(latest: Mapping[int, datetime], chunk: int = 500) -> None:
    """Move each contact's last_activity_at forward to its latest touchpoint: one UPDATE per
    `chunk` contacts (a CASE per id), never one query per contact."""
    if len(latest) == 1:  # one touchpoint's contact: the plain form of the same UPDATE
        ((pk, at),) = latest.items()
        Contact.objects.filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at), pk=pk
        ).update(last_activity_at=at)
        return
    items = sorted(latest.items())
    for start in range(0, len(items), chunk):
        part = dict(items[start : start + chunk])
        when = Case(
            *[When(pk=pk, then=Value(at)) for pk, at in part.items()],
            output_field=models.DateTimeField(),
        )
        Contact.objects.filter(pk__in=part).update(
            last_activity_at=Greatest(Coalesce(F("last_activity_at"), when), when)
        )


def touchpoint_record(
    *,
    kind: str,
    contact: Contact | None = None,
    visitor_key: str = "",
    stage: str = "",
    subject: models.Model | None = None,
    properties: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """Record one interaction; `touchpoint_recorded` is sent once the transaction commits."""
    touchpoint = _touchpoint(
        TouchpointIn(
            kind=kind,
            contact_id=contact.pk if contact else None,
            visitor_key=visitor_key,
            stage=stage,
            subject=subject,
            properties=dict(properties or {}),
            occurred_at=occurred_at,
        )
    )
    _touchpoint_write(touchpoint)
    return touchpoint


# No savepoint when nested: the input is checked before (a ValidationError there must leave the
# caller's transaction usable), and a submission records one in its hot path, where a
# savepoint costs two more round trips.
@transaction.atomic(savepoint=False)
def _touchpoint_write(touchpoint: Touchpoint) -> None:
    touchpoint.save()
    if touchpoint.contact_id is not None:
        _mark_activity({touchpoint.contact_id: touchpoint.occurred_at})
        if touchpoint.kind in REFRESHING_KINDS:
            derived_refresh_queue(contact_ids=[touchpoint.contact_id])
    _announce([touchpoint])


@transaction.atomic
def touchpoints_record_bulk(*, rows: Iterable[TouchpointIn], batch_size: int = 2000) -> int:
    """Record many interactions (tracking beacon, imports) in batched INSERTs.

    The signal is sent only for rows with a contact: anonymous rows trigger nothing.
    """
    built = [_touchpoint(row) for row in rows]
    created = Touchpoint.objects.bulk_create(built, batch_size=batch_size)
    known = [t for t in created if t.contact_id]
    latest: dict[int, datetime] = {}
    for t in known:
        if t.contact_id is not None:
            latest[t.contact_id] = max(latest.get(t.contact_id, t.occurred_at), t.occurred_at)
    _mark_activity(latest)
    derived_refresh_queue(
        contact_ids=[t.contact_id for t in known if t.contact_id and t.kind in REFRESHING_KINDS]
    )
    _announce(known)
    return len(created)


def touchpoints_record_received(
    *,
    kind: str,
    contact_ids: Sequence[int],
    subject: models.Model,
    occurred_at: datetime | None = None,
) -> int:
    """One touchpoint of `kind` about `subject` for each contact, in one INSERT…SELECT; how many.

    The lean path for what the institution does to many contacts at once (an e-mail sent to
    them), in the send loop: it is not the contacts' own activity, so their last activity and
    derived data (lifecycle stage, persona) stay as they are and no signal is sent. Contacts
    deleted meanwhile are left out.
    """
    stage = KIND_STAGES.get(kind, "")
    if stage not in Touchpoint.Stage.values:
        raise ValueError(f"unknown touchpoint kind {kind!r}")
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        return 0
    ops = connection.ops
    table = ops.quote_name(Touchpoint._meta.db_table)
    contacts = ops.quote_name(Contact._meta.db_table)
    fields = Touchpoint._meta
    column = {f.name: f.column for f in fields.concrete_fields if f.column}
    columns = ", ".join(
        ops.quote_name(column[name])
        for name in (
            "occurred_at",
            "kind",
            "stage",
            "contact",
            "visitor_key",
            "subject_type",
            "subject_id",
            "properties",
        )
    )
    properties = fields.get_field("properties").get_db_prep_value({}, connection)
    subject_type = ContentType.objects.get_for_model(subject)
    when = fields.get_field("occurred_at").get_db_prep_value(
        occurred_at or timezone.now(), connection
    )
    constants = [when, kind, stage, subject_type.pk, str(subject.pk), properties]
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array: psycopg parses the statement once
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (our tables; values are parameters)
                f"SELECT %s, %s, %s, id, '', %s, %s, %s FROM {contacts} WHERE id = ANY(%s)",
                [*constants, ids],
            )
            return max(cursor.rowcount, 0)
        for start in range(0, len(ids), 1000):  # within every database's parameter limit
            part = ids[start : start + 1000]
            placeholders = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (our tables; values are parameters)
                f"SELECT %s, %s, %s, id, '', %s, %s, %s FROM {contacts} "
                f"WHERE id IN ({placeholders})",
                [*constants, *part],
            )
            written += max(cursor.rowcount, 0)
    return written


@transaction.atomic
def identity_stitch(*, contact: Contact, visitor_key: str) -> int:
    """Link an anonymous visitor's past touchpoints to the contact, if they allow tracking."""
    if not visitor_key or not may_track(contact=contact):
        return 0
    return Touchpoint.objects.filter(visitor_key=visitor_key, contact__isnull=True).update(
        contact=contact
    )


@transaction.atomic
def contact_merge(
    *, primary: Contact, duplicate: Contact, actor: Any = None, request: Any = None
) -> Contact:
    """Fold `duplicate` into `primary` and delete it.

    Touchpoints, consent history, subscriptions, tags and static-list memberships move to the
    primary. Field values come from whichever contact's data was verified most recently. A
    subscription ends up active only if one was active and the merged ledger still grants
    consent for its topic: merging never subscribes anyone who unsubscribed or never agreed.
    """
    if primary.pk == duplicate.pk:
        raise DomainError(_("A contact cannot be merged with itself."))
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update().filter(pk__in=[primary.pk, duplicate.pk])
    }
    primary, duplicate = locked[primary.pk], locked[duplicate.pk]
    if primary.is_anonymised or duplicate.is_anonymised:
        raise DomainError(_("Erased contacts cannot be merged."))

    def freshness(c: Contact) -> tuple[int, datetime]:
        return (1 if c.email_verified_at else 0, c.email_verified_at or c.updated_at)

    newer, older = (
        (primary, duplicate) if freshness(primary) >= freshness(duplicate) else (duplicate, primary)
    )
    for name in PERSONAL_FIELDS:
        value = getattr(newer, name) or getattr(older, name)
        setattr(primary, name, value)
    primary.properties = {**older.properties, **newer.properties}
    if duplicate.email_status == Contact.EmailStatus.UNSUBSCRIBED:
        primary.email_status = Contact.EmailStatus.UNSUBSCRIBED
    later_pause = max(
        filter(None, [primary.email_paused_until, duplicate.email_paused_until]), default=None
    )
    primary.email_paused_until = later_pause
    primary.last_activity_at = max(
        filter(None, [primary.last_activity_at, duplicate.last_activity_at]), default=None
    )
    primary.created_at = min(primary.created_at, duplicate.created_at)

    Touchpoint.objects.filter(contact=duplicate).update(contact=primary)
    ConsentRecord.objects.filter(contact=duplicate).update(contact=primary)
    primary.tags.add(*duplicate.tags.all())
    for member in SegmentMember.objects.filter(contact=duplicate):
        SegmentMember.objects.get_or_create(
            segment_id=member.segment_id, contact=primary, defaults={"added_at": member.added_at}
        )
    mine = {s.topic_id: s for s in Subscription.objects.filter(contact=primary)}
    for theirs in Subscription.objects.filter(contact=duplicate).select_related("topic"):
        statuses = {
            theirs.status,
            mine[theirs.topic_id].status if theirs.topic_id in mine else None,
        }
        granted = consent_is_granted(
            contact=primary, purpose=ConsentRecord.Purpose.TOPIC, topic=theirs.topic
        )
        if Subscription.Status.ACTIVE in statuses and granted:
            status = Subscription.Status.ACTIVE
        elif Subscription.Status.UNSUBSCRIBED in statuses or (
            Subscription.Status.ACTIVE in statuses and not granted
        ):
            status = Subscription.Status.UNSUBSCRIBED
        else:
            status = Subscription.Status.PENDING
        subscription_set(contact=primary, topic=theirs.topic, status=status)
    # Topics only the primary had may have lost their consent through the merged ledger too.
    for subscription in mine.values():
        if subscription.status == Subscription.Status.ACTIVE and not consent_is_granted(
            contact=primary, purpose=ConsentRecord.Purpose.TOPIC, topic=subscription.topic
        ):
            subscription_set(
                contact=primary, topic=subscription.topic, status=Subscription.Status.UNSUBSCRIBED
            )

    duplicate_id, duplicate_email = duplicate.pk, duplicate.email or ""
    duplicate.delete()
    primary.version = F("version") + 1
    primary.save()
    primary.refresh_from_db()
    audit_record(
        action="contact_merged",
        actor=actor,
        obj=primary,
        request=request,
        detail={
            "merged_contact_id": duplicate_id,
            "merged_email_hash": email_hash(duplicate_email) if duplicate_email else "",
        },
    )
    return primary
