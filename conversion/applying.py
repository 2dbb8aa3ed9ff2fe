"""Staged submissions: what a submission means for the contact, applied only by the citizen's act.

The request stores the raw `Submission` and its outbox rows and nothing else
(`services.submission_create`). The outbox relay (`conversion.outbox`) then runs
`submission_apply` for each new submission:

- a double opt-in form whose citizen ticked a consent or chose a topic only gets the opt-in
  e-mail: the contact, its fields, consents, subscriptions and the `form_submit` touchpoint are
  applied by `submission_confirm`, when the citizen clicks the e-mailed link and confirms;
- any other submission with an address is applied at once: a new contact is created with what
  was typed, consents are recorded and topics subscribed (the institution chose not to ask for
  a confirmation), and the `form_submit` touchpoint names the contact.

Nobody but the citizen may change what we know about them: for an existing contact, values from
a submission nobody confirmed are never written to the contact. They stay on the submission as
proposed changes that staff may accept (`conversion.proposals`). A confirmed submission fills
blanks and updates the fields the citizen typed.

Every step is idempotent (`applied_at`, `optin_confirmed_at`), so a relay that dies mid-batch
and runs again changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from contacts.models import ConsentRecord, Contact, Subscription, Tombstone, Topic
from contacts.selectors import contact_by_email, contacts_with_emails
from contacts.services import (
    consent_record,
    contact_upsert,
    identity_stitch,
    subscription_set,
    touchpoint_record,
)
from conversion.forms import form_fields
from conversion.models import FormField, SideEffect, Submission


def submission_email(fields: list[FormField], values: Mapping[str, Any]) -> str:
    """The address a submission gave (its first e-mail field), lowercased; "" for none."""
    for field in fields:
        if field.kind == FormField.Kind.EMAIL and values.get(field.key):
            return str(values[field.key]).strip().lower()
    return ""


def topic_slugs(fields: list[FormField], values: Mapping[str, Any]) -> list[str]:
    """Topics a submission subscribes to: the topics picker and ticked topic checkboxes."""
    slugs: list[str] = []
    for field in fields:
        value = values.get(field.key)
        if field.kind == FormField.Kind.TOPICS and isinstance(value, list):
            slugs.extend(str(v) for v in value)
        elif field.target == FormField.Target.TOPIC and value is True:
            slugs.append(field.target_key)
    return list(dict.fromkeys(slugs))


def consents_ticked(fields: list[FormField], values: Mapping[str, Any]) -> list[FormField]:
    return [f for f in fields if f.kind == FormField.Kind.CONSENT and values.get(f.key) is True]


def contact_changes(
    fields: list[FormField], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(contact fields, custom properties) the citizen typed in a submission."""
    data: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.key)
        if value in (None, "", []) or field.kind == FormField.Kind.FILE:
            continue
        if field.target == FormField.Target.CONTACT and field.target_key != "email":
            data[field.target_key] = value
        elif field.target == FormField.Target.PROPERTY:
            properties[field.target_key] = value
    return data, properties


def needs_confirmation(submission: Submission, fields: list[FormField]) -> bool:
    """A double opt-in form asks the citizen to confirm before any consent or subscription."""
    values = submission.values
    return bool(
        submission.form.double_opt_in
        and submission_email(fields, values)
        and (consents_ticked(fields, values) or topic_slugs(fields, values))
    )


def _touchpoint(submission: Submission, contact: Contact | None, **extra: Any) -> None:
    touchpoint_record(
        kind="form_submit",
        contact=contact,
        visitor_key=submission.visitor_key,
        subject=submission.form,
        properties={
            "form": submission.form.slug,
            "submission": submission.pk,
            "form_version": submission.form_version,
            "language": submission.language,
            **({"landing_page": submission.landing_page_id} if submission.landing_page_id else {}),
            **(
                {"ab_test": submission.variant.test_id, "variant": submission.variant_id}
                if submission.variant is not None
                else {}
            ),
            **submission.utm,
            **extra,
        },
        occurred_at=submission.created_at,
    )


def _stitch(submission: Submission, contact: Contact) -> None:
    """The visitor's earlier anonymous visits join the contact's timeline: the submission keeps
    a visitor key only when the citizen ticked the tracking consent in it (and sent no GPC/DNT),
    and `identity_stitch` checks that consent stands. Keys rotate daily, so only that day's
    visits can be linked."""
    if submission.visitor_key:
        identity_stitch(contact=contact, visitor_key=submission.visitor_key)


def _erased_since(submission: Submission) -> bool:
    return (
        bool(submission.email_hash)
        and Tombstone.objects.filter(email_hash=submission.email_hash).exists()
    )


def _redact(submission: Submission) -> None:
    """The address was erased between the request and the relay: keep nothing personal."""
    from conversion.personal_data import submission_redact

    submission_redact(submission)


@transaction.atomic
def submission_apply(*, submission_id: int) -> Submission | None:
    """Apply one stored submission (the relay's step); None if it was applied already."""
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("form", "variant")
        .filter(pk=submission_id, applied_at__isnull=True)
        .first()
    )
    if submission is None:
        return None
    now = timezone.now()
    fields = form_fields(submission.form)
    email = submission_email(fields, submission.values)
    if email and _erased_since(submission):
        _redact(submission)
    elif needs_confirmation(submission, fields):
        # Nothing about the contact changes until the citizen confirms: only the e-mail goes.
        SideEffect.objects.get_or_create(
            submission=submission,
            kind=SideEffect.Kind.OPTIN_EMAIL,
            defaults={"next_attempt_at": now},
        )
        existing = contact_by_email(email)
        if existing is not None:
            _propose(submission, fields, existing)
    elif email:
        contact = _contact_apply(submission, fields, email=email, confirmed=False)
        _consents_and_topics(submission, fields, contact)
        submission.contact = contact
        _touchpoint(submission, contact)
        _stitch(submission, contact)
    else:
        _touchpoint(submission, None)
    submission.applied_at = now
    submission.save(update_fields=["applied_at", "contact", "proposal"])
    return submission


@transaction.atomic
def submissions_apply(*, submission_ids: list[int]) -> int:
    """Apply a batch of stored submissions (the relay's step); how many were applied now.

    The common case — a double opt-in submission waiting for its citizen — costs a handful of
    statements for the whole batch: one look-up of tombstones, one of existing contacts (for
    proposals), one INSERT of the opt-in e-mails and one UPDATE. Anything else (a contact to
    create, consents to record, an address erased since) goes through `submission_apply`.
    """
    submissions = list(
        Submission.objects.select_for_update(of=("self",))
        .select_related("form", "variant")
        .filter(pk__in=submission_ids, applied_at__isnull=True)
        .order_by("pk")
    )
    hashes = {s.email_hash for s in submissions if s.email_hash}
    erased = set(
        Tombstone.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True)
    )
    waiting: list[tuple[Submission, list[FormField], str]] = []
    others: list[Submission] = []
    for submission in submissions:
        fields = form_fields(submission.form)
        if submission.email_hash not in erased and needs_confirmation(submission, fields):
            waiting.append((submission, fields, submission_email(fields, submission.values)))
        else:
            others.append(submission)
    if waiting:
        now = timezone.now()
        SideEffect.objects.bulk_create(
            [
                SideEffect(submission=s, kind=SideEffect.Kind.OPTIN_EMAIL, next_attempt_at=now)
                for s, _fields, _email in waiting
            ],
            ignore_conflicts=True,
        )
        known = {
            (c.email or "").lower(): c
            for c in contacts_with_emails({email for _s, _f, email in waiting})
        }
        for submission, fields, email in waiting:
            if (contact := known.get(email)) is not None:
                _propose(submission, fields, contact)
            submission.applied_at = now
        # One UPDATE per proposal state (almost always one): `bulk_update`'s CASE per row cost
        # the relay more Python than the rest of the batch.
        by_proposal: dict[str, list[int]] = {}
        for submission, _fields, _email in waiting:
            by_proposal.setdefault(submission.proposal, []).append(submission.pk)
        for proposal, ids in by_proposal.items():
            Submission.objects.filter(pk__in=ids).update(applied_at=now, proposal=proposal)
    for submission in others:
        submission_apply(submission_id=submission.pk)
    return len(submissions)


def _contact_apply(
    submission: Submission, fields: list[FormField], *, email: str, confirmed: bool
) -> Contact:
    """The submission's contact: created with what was typed, or, when it exists, updated only
    if the citizen confirmed; otherwise the typed values become a proposal for staff."""
    existing = contact_by_email(email)
    if existing is not None and not confirmed:
        _propose(submission, fields, existing)
        return existing
    data, properties = contact_changes(fields, submission.values)
    contact, _created = contact_upsert(
        email=email,
        data=data,
        properties=properties,
        source=Contact.Source.FORM,
        verified=confirmed,
        create_defaults={"language": submission.language[:2]},
    )
    return contact


def _propose(submission: Submission, fields: list[FormField], contact: Contact) -> None:
    from conversion.proposals import proposal_differs

    data, properties = contact_changes(fields, submission.values)
    if proposal_differs(contact, data, properties):
        submission.proposal = Submission.Proposal.PENDING


def _consents_and_topics(submission: Submission, fields: list[FormField], contact: Contact) -> None:
    """A grant per ticked consent checkbox, with the text shown in the citizen's language, and
    a subscription to each chosen public topic (a confirmed one never goes back)."""
    values = submission.values
    slugs = [f.target_key for f in consents_ticked(fields, values) if f.target_key]
    topics = {
        t.slug: t for t in Topic.objects.filter(slug__in=[*slugs, *topic_slugs(fields, values)])
    }
    with translation.override(submission.language):
        for field in consents_ticked(fields, values):
            topic = None
            if field.consent_purpose == ConsentRecord.Purpose.TOPIC:
                topic = topics.get(field.target_key)
                if topic is None:
                    continue
            consent_record(
                contact=contact,
                purpose=field.consent_purpose,
                topic=topic,
                action=ConsentRecord.Action.GRANTED,
                legal_basis=ConsentRecord.LegalBasis.CONSENT,
                text=field.consent_text or field.label,
                text_version=field.consent_version,
                source=ConsentRecord.Source.FORM,
            )
    chosen = [topics[s] for s in topic_slugs(fields, values) if s in topics]
    active = set(
        contact.subscriptions.filter(
            topic__in=chosen, status=Subscription.Status.ACTIVE
        ).values_list("topic_id", flat=True)
    )
    for topic in chosen:
        if topic.is_public and topic.pk not in active:
            subscription_set(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)


def submission_confirm(submission: Submission) -> Contact:
    """The citizen confirmed the address from the opt-in e-mail (inside its transaction, the
    submission locked): the contact, its consents and subscriptions, and the touchpoints."""
    fields = form_fields(submission.form)
    email = submission_email(fields, submission.values)
    contact = _contact_apply(submission, fields, email=email, confirmed=True)
    _consents_and_topics(submission, fields, contact)
    now = timezone.now()
    changed = []
    if contact.email_verified_at is None:
        contact.email_verified_at = now
        changed.append("email_verified_at")
    if contact.email_status == Contact.EmailStatus.UNCONFIRMED:
        contact.email_status = Contact.EmailStatus.ACTIVE
        changed.append("email_status")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    submission.contact = contact
    submission.optin_confirmed_at = now
    if submission.proposal == Submission.Proposal.PENDING:
        submission.proposal = Submission.Proposal.NONE  # the citizen applied it themselves
    submission.save(update_fields=["contact", "optin_confirmed_at", "proposal"])
    _touchpoint(submission, contact, confirmed=True)
    _stitch(submission, contact)
    touchpoint_record(
        kind="optin_confirmed",
        contact=contact,
        subject=submission.form,
        properties={"form": submission.form.slug, "submission": submission.pk},
        occurred_at=now,
    )
    return contact
