"""Proposed changes: what a submission nobody confirmed would change on an existing contact.

Anyone can type someone else's address in a public form, so such a submission never writes to
the contact (`conversion.applying`). Its values wait on the submission, shown on the contact's
page in the admin, where a Marketer accepts (the values are written, audited) or dismisses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from contacts.models import Contact, ContactProperty
from contacts.services import contact_upsert
from contacts.validation import email_hash
from conversion.models import Submission
from inbound.audit import audit_record
from inbound.lib.errors import DomainError


@dataclass(frozen=True)
class Change:
    field: str  # a contact field, or "property:<key>"
    label: str
    current: Any
    proposed: Any


@dataclass(frozen=True)
class Proposal:
    submission: Submission
    changes: list[Change]


def _differences(
    contact: Contact, data: Mapping[str, Any], properties: Mapping[str, Any]
) -> list[Change]:
    changes = []
    for name, value in data.items():
        current = getattr(contact, name, None)
        if str(current or "") != str(value or ""):
            label = str(getattr(Contact._meta.get_field(name), "verbose_name", name))
            changes.append(Change(name, label, current, value))
    labels = dict(ContactProperty.objects.values_list("key", "label")) if properties else {}
    for key, value in properties.items():
        current = contact.properties.get(key)
        if current != value:
            changes.append(Change(f"property:{key}", labels.get(key, key), current, value))
    return changes


def proposal_differs(
    contact: Contact, data: Mapping[str, Any], properties: Mapping[str, Any]
) -> bool:
    return bool(_differences(contact, data, properties))


def contact_proposals(*, contact: Contact) -> list[Proposal]:
    """The pending proposals for a contact, oldest first, with what each would change now."""
    from conversion.applying import contact_changes
    from conversion.forms import form_fields

    if not contact.email:
        return []
    proposals = []
    pending = (
        Submission.objects.filter(
            email_hash=email_hash(contact.email), proposal=Submission.Proposal.PENDING
        )
        .select_related("form")
        .order_by("created_at", "pk")
    )
    for submission in pending:
        data, properties = contact_changes(form_fields(submission.form), submission.values)
        changes = _differences(contact, data, properties)
        if changes:
            proposals.append(Proposal(submission, changes))
    return proposals


def _pending(contact: Contact, submission_id: int) -> Submission:
    submission = (
        Submission.objects.select_for_update()
        .select_related("form")
        .filter(
            pk=submission_id,
            email_hash=email_hash(contact.email or ""),
            proposal=Submission.Proposal.PENDING,
        )
        .first()
    )
    if submission is None:
        raise DomainError("This proposal was already decided.", code="decided")
    return submission


@transaction.atomic
def proposal_accept(*, contact: Contact, submission_id: int, actor: Any, request: Any) -> Contact:
    """Write a submission's proposed values to the contact (staff vouch for them). Audited."""
    from conversion.applying import contact_changes
    from conversion.forms import form_fields

    submission = _pending(contact, submission_id)
    data, properties = contact_changes(form_fields(submission.form), submission.values)
    changed = sorted(c.field for c in _differences(contact, data, properties))
    contact, _created = contact_upsert(email=contact.email or "", data=data, properties=properties)
    Submission.objects.filter(pk=submission.pk).update(proposal=Submission.Proposal.ACCEPTED)
    audit_record(
        action="contact_proposal_accepted",
        actor=actor,
        obj=contact,
        request=request,
        detail={"submission": submission.pk, "fields": changed},
    )
    return contact


@transaction.atomic
def proposal_dismiss(*, contact: Contact, submission_id: int, actor: Any, request: Any) -> None:
    submission = _pending(contact, submission_id)
    Submission.objects.filter(pk=submission.pk).update(proposal=Submission.Proposal.DISMISSED)
    Contact.objects.filter(pk=contact.pk).update(version=F("version") + 1)
    audit_record(
        action="contact_proposal_dismissed",
        actor=actor,
        obj=contact,
        request=request,
        detail={"submission": submission.pk},
    )
