"""Writes of `conversion`: a submission and its outbox row, the opt-in and recognition tokens.

A submission is never lost: the Submission and its SideEffect rows commit together (one
statement on PostgreSQL) before the citizen is thanked. What it means for the contact, and the
e-mails and the webhook, follow from the outbox relay (`conversion.outbox`, `conversion.applying`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Contact, Tombstone
from contacts.validation import email_fingerprint, email_hash
from conversion.forms import UTM_FIELDS, json_value, upload_content_type
from conversion.forms import form_fields as fields_of
from conversion.models import (
    Form,
    FormField,
    LandingPage,
    LandingVariant,
    SideEffect,
    Submission,
    SubmissionFile,
)
from conversion.wake import effects_wake
from inbound.lib.errors import DomainError
from inbound.lib.signatures import Signer

OPTIN_SALT = "conversion.optin"
CONTACT_SALT = "conversion.contact"


class OptinLinkInvalid(DomainError):
    status = 400


class OptinLinkExpired(DomainError):
    status = 410


# --- Submissions ------------------------------------------------------------------------------


def _window_seconds() -> int:
    return int(getattr(settings, "CONVERSION_IDEMPOTENCY_WINDOW_SECONDS", 600))


def idempotency_key(*, form: Form, email: str, values: Mapping[str, Any], bucket: int) -> str:
    """sha256 of the form, the address, the values and the time bucket they were sent in."""
    payload = json.dumps(
        [form.pk, email.strip().lower(), values, bucket], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _email_of(form_fields: list[FormField], cleaned: Mapping[str, Any]) -> str:
    for field in form_fields:
        if field.kind == FormField.Kind.EMAIL and cleaned.get(field.key):
            return str(cleaned[field.key]).strip().lower()
    return ""


def _submission_values(
    form_fields: list[FormField], cleaned: Mapping[str, Any], files: Mapping[str, UploadedFile]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in form_fields:
        if field.kind == FormField.Kind.UTM:
            continue
        if field.kind == FormField.Kind.FILE:
            upload = files.get(field.key) or cleaned.get(field.key)
            if isinstance(upload, UploadedFile):
                values[field.key] = {"name": upload.name, "size": upload.size}
            continue
        if field.key in cleaned and cleaned[field.key] not in (None, "", []):
            values[field.key] = json_value(cleaned[field.key])
            if field.kind == FormField.Kind.EMAIL:
                values[field.key] = str(values[field.key]).strip().lower()
    return values


def _existing(keys: list[str], since: dt.datetime) -> Submission | None:
    hits = Submission.objects.filter(idempotency_key__in=keys, created_at__gte=since).order_by()
    pk = next(iter(hits.values_list("pk", flat=True)[:1]), None)
    return Submission.objects.get(pk=pk) if pk is not None else None


def submission_create(
    *,
    form: Form,
    cleaned: Mapping[str, Any],
    files: Mapping[str, UploadedFile],
    language: str,
    page: str,
    referrer: str,
    visitor_key: str,
    landing_page: LandingPage | None = None,
    variant: LandingVariant | None = None,
) -> tuple[Submission, bool]:
    """Store a citizen's submission and its outbox row; nothing else. Returns (submission,
    created), committed when it returns unless the caller holds a transaction open (the
    thank-you page may only follow a stored answer).

    What it means for the contact (fields, consents, subscriptions, touchpoint, e-mails) is
    applied by the relay, and for a double opt-in form only once the citizen confirms
    (`conversion.applying`). The same form, address and values sent again within
    CONVERSION_IDEMPOTENCY_WINDOW_SECONDS count once: (the first submission, False), nothing
    new written. An address whose owner asked to be erased gets the same answer as any other,
    and nothing personal is stored. `visitor_key` is what the submission may keep of its
    visitor (`conversion.tracking.submission_visitor_key`: empty unless the citizen ticked the
    tracking consent here, and under GPC/DNT).

    On PostgreSQL a submission without files costs one statement (`_store_statement`); uploads
    add their rows in the same transaction.
    """
    form_fields = fields_of(form)
    email = _email_of(form_fields, cleaned)
    values = _submission_values(form_fields, cleaned, files)
    now = timezone.now()
    window = _window_seconds()
    bucket = int(now.timestamp()) // window
    staged = Submission(
        form=form,
        form_version=form.version,
        values=values,
        utm={name: str(cleaned[name])[:200] for name in UTM_FIELDS if cleaned.get(name)},
        referrer=referrer[:500],
        page=page[:500],
        language=language[:8],
        visitor_key=visitor_key[:64],
        email_hash=email_hash(email) if email else "",
        landing_page=landing_page,
        variant=variant,
        idempotency_key=idempotency_key(form=form, email=email, values=values, bucket=bucket),
        created_at=now,
    )
    twin = _Twin(
        key=idempotency_key(form=form, email=email, values=values, bucket=bucket - 1),
        since=now - dt.timedelta(seconds=window),
    )
    store = _store_statement if connection.vendor == "postgresql" else _store_orm
    uploads = any(f.kind == FormField.Kind.FILE and f.key in files for f in form_fields)
    with transaction.atomic() if uploads else contextlib.nullcontext():
        pk, created, erased = store(staged, twin, _effects_of(form))
        if not created:
            return Submission.objects.get(pk=pk), False
        staged.pk = pk
        if erased:
            # Counted (the form was sent), but about no one: no files, no e-mail, no webhook.
            _erased_blank(staged)
        elif uploads:
            _files_store(staged, form_fields, files)
    # The submission and its outbox rows are written (committed, but for a caller's open
    # transaction): the relay is woken once they commit (`wake`), or takes them at beat's next
    # tick. A broker outage can neither slow nor fail the request.
    if not erased:
        effects_wake()
    return staged, True


@dataclass(frozen=True)
class _Twin:
    """The previous time bucket's key of the same submission, and how far back it counts."""

    key: str
    since: dt.datetime


def _effects_of(form: Form) -> list[str]:
    """The outbox rows of a new submission: the relay (`outbox.effects_due`) applies it and
    sends what it calls for once it commits. The request never talks to the broker, so a
    broker outage cannot slow or fail it."""
    effects = [SideEffect.Kind.APPLY.value]
    if form.notify_email_list:
        effects.append(SideEffect.Kind.STAFF_NOTIFICATION.value)
    if form.webhook_url:
        effects.append(SideEffect.Kind.WEBHOOK.value)
    return effects


def _erased_blank(submission: Submission) -> None:
    submission.values, submission.referrer, submission.visitor_key = {}, "", ""
    submission.email_hash = ""
    submission.applied_at = submission.created_at


# One round trip for the whole request on PostgreSQL: the twin look-up, the tombstone check,
# the insert (ON CONFLICT: a concurrent twin inserts nothing) and the outbox rows. Per request,
# a transaction with separate statements cost five more round trips (BEGIN, the look-ups,
# COMMIT), which was most of a submission's time (`python -m bench submissions`).
_STORE_SQL = """
WITH erased AS (
    SELECT %(hash)s <> '' AND EXISTS (
        SELECT 1 FROM {tombstone} WHERE email_hash = %(hash)s
    ) AS yes
), twin AS (
    SELECT id FROM {submission}
    WHERE idempotency_key = %(key)s OR (idempotency_key = %(twin_key)s AND created_at >= %(since)s)
    LIMIT 1
), inserted AS (
    INSERT INTO {submission} (
        form_id, form_version, values, utm, referrer, page, language, visitor_key, email_hash,
        landing_page_id, variant_id, idempotency_key, applied_at, created_at, proposal
    )
    SELECT %(form)s, %(version)s,
        CASE WHEN erased.yes THEN '{{}}'::jsonb ELSE %(values)s::jsonb END, %(utm)s::jsonb,
        CASE WHEN erased.yes THEN '' ELSE %(referrer)s END, %(page)s, %(language)s,
        CASE WHEN erased.yes THEN '' ELSE %(visitor_key)s END,
        CASE WHEN erased.yes THEN '' ELSE %(hash)s END,
        %(landing_page)s, %(variant)s, %(key)s,
        CASE WHEN erased.yes THEN %(now)s::timestamptz END, %(now)s, ''
    FROM erased WHERE NOT EXISTS (SELECT 1 FROM twin)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), outbox AS (
    INSERT INTO {effect} (submission_id, kind, status, attempts, next_attempt_at, last_error)
    SELECT inserted.id, kind, %(pending)s, 0, %(now)s, ''
    FROM inserted, erased, unnest(%(effects)s::varchar[]) AS kind
    WHERE NOT erased.yes
)
SELECT id, true, (SELECT yes FROM erased) FROM inserted
UNION ALL SELECT id, false, false FROM twin
"""


def _store_statement(staged: Submission, twin: _Twin, effects: list[str]) -> tuple[int, bool, bool]:
    """(id, created, erased) of the submission, stored in one statement."""
    quote = connection.ops.quote_name
    sql = _STORE_SQL.format(
        tombstone=quote(Tombstone._meta.db_table),
        submission=quote(Submission._meta.db_table),
        effect=quote(SideEffect._meta.db_table),
    )
    params: dict[str, Any] = {
        "hash": staged.email_hash,
        "key": staged.idempotency_key,
        "twin_key": twin.key,
        "since": twin.since,
        "form": staged.form_id,
        "version": staged.form_version,
        "values": json.dumps(staged.values),
        "utm": json.dumps(staged.utm),
        "referrer": staged.referrer,
        "page": staged.page,
        "language": staged.language,
        "visitor_key": staged.visitor_key,
        "landing_page": staged.landing_page_id,
        "variant": staged.variant_id,
        "now": staged.created_at,
        "pending": SideEffect.Status.PENDING.value,
        "effects": effects,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # a concurrent twin committed while we inserted: ON CONFLICT did nothing
        found = Submission.objects.filter(idempotency_key=staged.idempotency_key).first()
        if found is None:
            raise IntegrityError("the submission's twin vanished")
        return found.pk, False, False
    return int(row[0]), bool(row[1]), bool(row[2])


@transaction.atomic
def _store_orm(staged: Submission, twin: _Twin, effects: list[str]) -> tuple[int, bool, bool]:
    """(id, created, erased), as `_store_statement` does, with the ORM (SQLite: the embedded
    default, one writer at a time)."""
    existing = _existing([staged.idempotency_key, twin.key], twin.since)
    if existing is not None:
        return existing.pk, False, False
    erased = bool(staged.email_hash) and (
        Tombstone.objects.filter(email_hash=staged.email_hash).exists()
    )
    if erased:
        _erased_blank(staged)
    staged.save(force_insert=True)
    if not erased:
        SideEffect.objects.bulk_create(
            [
                SideEffect(submission=staged, kind=kind, next_attempt_at=staged.created_at)
                for kind in effects
            ]
        )
    return staged.pk, True, erased


def _files_store(
    submission: Submission, form_fields: list[FormField], files: Mapping[str, UploadedFile]
) -> None:
    for field in form_fields:
        upload = files.get(field.key)
        if field.kind != FormField.Kind.FILE or upload is None:
            continue
        SubmissionFile.objects.create(
            submission=submission,
            key=field.key,
            file=upload,
            name=(upload.name or "")[:255],
            size=upload.size or 0,
            content_type=upload_content_type(upload) or "",
        )


def form_version_bump(*, form: Form, before: str) -> bool:
    """A form whose fields changed since `before` gets a new version, if any citizen has seen
    it (published, or already answered): each submission then says which fields it answered."""
    if form.fields_fingerprint() == before:
        return False
    seen = (
        form.status == Form.Status.PUBLISHED
        or form.submissions.filter(form_version=form.version).exists()
    )
    if not seen:
        return False
    Form.objects.filter(pk=form.pk).update(version=F("version") + 1)
    form.refresh_from_db(fields=["version"])
    return True


# --- Double opt-in ------------------------------------------------------------------------------


def _optin_max_age() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "CONVERSION_OPTIN_MAX_AGE_DAYS", 7))


def optin_token(submission: Submission) -> str:
    """The signed, expiring token of the opt-in link for this submission (the very token
    `signing.TimestampSigner(salt=OPTIN_SALT).sign_object` writes, signed with the key derived
    once: the relay signs one per e-mail)."""
    signer = Signer(OPTIN_SALT, timestamped=True)
    return signer.sign_object({"s": submission.pk, "k": submission.idempotency_key[:16]})


# Stands for the token in a reversed opt-in path: `<str:token>` takes it as it is.
_TOKEN_SLOT = "token-slot"  # noqa: S105 (a placeholder, not a secret)


def optin_url(submission: Submission, *, paths: dict[str, str] | None = None) -> str:
    """The absolute opt-in link of the submission, in its language. `paths` keeps the reversed
    path of each language for a batch of e-mails: reversing costs more than signing."""
    from django.urls import reverse

    language = submission.language
    path = paths.get(language) if paths is not None else None
    if path is None:
        with translation.override(language):
            path = reverse("conversion:optin-confirm", kwargs={"token": _TOKEN_SLOT})
        if paths is not None:
            paths[language] = path
    return f"{settings.SITE_URL}{path.replace(_TOKEN_SLOT, optin_token(submission), 1)}"


def _optin_submission(token: str, *, lock: bool) -> Submission:
    """The submission an opt-in token names, or OptinLinkExpired / OptinLinkInvalid."""
    invalid = OptinLinkInvalid(_("This confirmation link is not valid."), code="invalid")
    signer = signing.TimestampSigner(salt=OPTIN_SALT)
    try:
        payload = signer.unsign_object(token, max_age=_optin_max_age())
    except signing.SignatureExpired:
        raise OptinLinkExpired(
            _("This confirmation link has expired. Send the form again to get a new one."),
            code="expired",
        ) from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise invalid from None
    submission_id = payload.get("s") if isinstance(payload, dict) else None
    if not isinstance(submission_id, int):
        raise invalid
    rows = Submission.objects.select_related("form", "contact").filter(pk=submission_id)
    submission = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if (
        submission is None
        or payload.get("k") != submission.idempotency_key[:16]
        # Erased since (redacted, or the address tombstoned): the link names no one any more.
        or not submission.email_hash
        or Tombstone.objects.filter(email_hash=submission.email_hash).exists()
    ):
        raise invalid
    return submission


def optin_read(token: str) -> Submission:
    """The submission an opt-in link names, changing nothing (the page that asks to confirm).

    Raises OptinLinkExpired / OptinLinkInvalid like `optin_confirm`.
    """
    return _optin_submission(token, lock=False)


def optin_confirm(token: str) -> Submission:
    """The citizen confirms the address a submission gave: only now does the submission reach
    the contact (fields, consents, subscriptions, touchpoints: `applying.submission_confirm`).

    Raises OptinLinkExpired / OptinLinkInvalid (nothing changed). Confirming twice changes
    nothing more and returns the same submission.
    """
    from conversion.applying import submission_confirm

    with transaction.atomic():
        submission = _optin_submission(token, lock=True)
        if submission.optin_confirmed_at is None:
            submission_confirm(submission)
    return submission


# --- Recognised contacts (progressive profiling) ---------------------------------------------


def _fingerprint(contact: Contact) -> str:
    return email_fingerprint(contact.email) if contact.email else ""


def contact_token(contact: Contact) -> str:
    """A signed token naming a contact (in our e-mails' links and the recognition cookie)."""
    return signing.TimestampSigner(salt=CONTACT_SALT).sign_object(
        {"c": contact.pk, "e": _fingerprint(contact)}
    )


def contact_from_token(token: str) -> Contact | None:
    """The contact a token names while it keeps that address, else None (never an error)."""
    max_age = dt.timedelta(days=getattr(settings, "CONVERSION_CONTACT_MAX_AGE_DAYS", 180))
    try:
        payload = signing.TimestampSigner(salt=CONTACT_SALT).unsign_object(token, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    contact_id = payload.get("c") if isinstance(payload, dict) else None
    if not isinstance(contact_id, int):
        return None
    contact = Contact.objects.filter(pk=contact_id, anonymised_at__isnull=True).first()
    if contact is None or not contact.email or payload.get("e") != _fingerprint(contact):
        return None
    return contact
