"""Writes of `conversion`: a submission in one transaction, the opt-in and recognition tokens.

A submission is never lost: the Submission, the contact, consents, subscriptions, the
touchpoint and the SideEffect rows commit together. The e-mails and the webhook are sent after
commit by the outbox relay (`conversion.outbox`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
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
    # Almost always none: ask for the id alone (no ordering, two columns) and load on a hit.
    hits = Submission.objects.filter(idempotency_key__in=keys, created_at__gte=since).order_by()
    pk = next(iter(hits.values_list("pk", flat=True)[:1]), None)
    return Submission.objects.get(pk=pk) if pk is not None else None


@transaction.atomic
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
    """Store a citizen's submission and its outbox rows, in one short transaction; nothing else.

    What it means for the contact (fields, consents, subscriptions, touchpoint) is applied by
    the relay, and for a double opt-in form only once the citizen confirms
    (`conversion.applying`). Returns (submission, created). The same form, address and values
    sent again within CONVERSION_IDEMPOTENCY_WINDOW_SECONDS count once: (the first submission,
    False), nothing new written. An address whose owner asked to be erased gets the same answer
    as any other, and nothing personal is stored. `visitor_key` is what the submission may keep
    of its visitor (`conversion.tracking.submission_visitor_key`: empty unless the citizen ticked
    the tracking consent here, and under GPC/DNT).
    """
    form_fields = fields_of(form)
    email = _email_of(form_fields, cleaned)
    values = _submission_values(form_fields, cleaned, files)
    now = timezone.now()
    window = _window_seconds()
    bucket = int(now.timestamp()) // window
    key = idempotency_key(form=form, email=email, values=values, bucket=bucket)
    previous_key = idempotency_key(form=form, email=email, values=values, bucket=bucket - 1)
    since = now - dt.timedelta(seconds=window)
    existing = _existing([key, previous_key], since)
    if existing is not None:
        return existing, False

    hashed = email_hash(email) if email else ""
    erased = bool(hashed) and Tombstone.objects.filter(email_hash=hashed).exists()
    utm = {name: str(cleaned[name])[:200] for name in UTM_FIELDS if cleaned.get(name)}
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin must not poison ours
            submission = Submission.objects.create(
                form=form,
                form_version=form.version,
                values={} if erased else values,
                utm=utm,
                referrer="" if erased else referrer[:500],
                page=page[:500],
                language=language[:8],
                visitor_key="" if erased else visitor_key[:64],
                email_hash="" if erased else hashed,
                landing_page=landing_page,
                variant=variant,
                idempotency_key=key,
                applied_at=now if erased else None,
                created_at=now,
            )
    except IntegrityError:
        existing = Submission.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        transaction.set_rollback(True)
        return existing, False
    if erased:
        # Counted (the form was sent), but about no one: no files, no e-mail, no webhook.
        return submission, True

    _files_store(submission, form_fields, files)
    effects = [SideEffect.Kind.APPLY]
    if form.notify_email_list:
        effects.append(SideEffect.Kind.STAFF_NOTIFICATION)
    if form.webhook_url:
        effects.append(SideEffect.Kind.WEBHOOK)
    # The outbox: the relay (`outbox.effects_due`) applies the submission and sends what it
    # calls for once this commits, woken at once (`wake`) or by beat's tick within 2 s. A broker
    # outage can neither slow nor fail the request: the rows wait for the tick.
    SideEffect.objects.bulk_create(
        [SideEffect(submission=submission, kind=kind, next_attempt_at=now) for kind in effects]
    )
    effects_wake()
    return submission, True


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
    """The signed, expiring token of the opt-in link for this submission."""
    signer = signing.TimestampSigner(salt=OPTIN_SALT)
    return signer.sign_object({"s": submission.pk, "k": submission.idempotency_key[:16]})


def optin_url(submission: Submission) -> str:
    from django.urls import reverse

    with translation.override(submission.language):
        path = reverse("conversion:optin-confirm", kwargs={"token": optin_token(submission)})
    return f"{settings.SITE_URL}{path}"


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
