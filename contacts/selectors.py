"""Reads of the CRM: current consent, who may be emailed, timelines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import ConsentRecord, Contact, Subscription, Topic, Touchpoint

Purpose = ConsentRecord.Purpose


def consent_latest(
    *, contact: Contact, purpose: str, topic: Topic | None = None
) -> ConsentRecord | None:
    """The record that decides the contact's current consent for a purpose (and topic)."""
    return (
        ConsentRecord.objects.filter(contact=contact, purpose=purpose, topic=topic)
        .order_by("-occurred_at", "-id")
        .first()
    )


def consent_latest_action(purpose: str, topic: Topic | int | None) -> Subquery:
    """Per outer contact row: the action ("granted"/"withdrawn") of its latest record."""
    records = ConsentRecord.objects.filter(contact=OuterRef("pk"), purpose=purpose)
    records = (
        records.filter(topic=topic) if topic is not None else records.filter(topic__isnull=True)
    )
    return Subquery(records.order_by("-occurred_at", "-id").values("action")[:1])


def consent_is_granted(*, contact: Contact, purpose: str, topic: Topic | None = None) -> bool:
    latest = consent_latest(contact=contact, purpose=purpose, topic=topic)
    return latest is not None and latest.action == ConsentRecord.Action.GRANTED


@dataclass(frozen=True)
class EmailPermission:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def may_email(*, contact: Contact, purpose: str, topic: Topic | None = None) -> EmailPermission:
    """May we email this contact for this purpose now? Every sending path asks this.

    - SERVICE mail (a confirmation or something the citizen asked for) needs only a deliverable
      address: not bounced, complained or erased.
    - NEWSLETTER needs an active address, no pause, and a current newsletter grant.
    - TOPIC needs an active address, no pause, an active subscription to the topic and a
      current grant for that topic.
    """
    if contact.is_anonymised or not contact.email:
        return EmailPermission(False, str(_("the contact was erased")))
    status = contact.email_status
    if status in {Contact.EmailStatus.BOUNCED, Contact.EmailStatus.COMPLAINED}:
        return EmailPermission(
            False,
            str(_("the address is %(status)s") % {"status": contact.get_email_status_display()}),
        )
    if purpose == Purpose.SERVICE:
        return EmailPermission(True)
    if status != Contact.EmailStatus.ACTIVE:
        return EmailPermission(
            False,
            str(_("the address is %(status)s") % {"status": contact.get_email_status_display()}),
        )
    if contact.email_paused_until and contact.email_paused_until >= timezone.localdate():
        return EmailPermission(False, str(_("email is paused")))
    if purpose == Purpose.TOPIC:
        if topic is None:
            raise ValueError("TOPIC purpose needs a topic")
        if not Subscription.objects.filter(
            contact=contact, topic=topic, status=Subscription.Status.ACTIVE
        ).exists():
            return EmailPermission(False, str(_("not subscribed to this topic")))
    if purpose not in {Purpose.NEWSLETTER, Purpose.TOPIC}:
        return EmailPermission(False, str(_("this purpose is not an email purpose")))
    if not consent_is_granted(contact=contact, purpose=purpose, topic=topic):
        return EmailPermission(False, str(_("no current consent for this purpose")))
    return EmailPermission(True)


def contacts_emailable(*, purpose: str, topic: Topic | None = None) -> QuerySet[Contact]:
    """The set `may_email` allows, as one query, for bulk sending."""
    contacts = Contact.objects.filter(anonymised_at__isnull=True, email__isnull=False)
    if purpose == Purpose.SERVICE:
        return contacts.exclude(
            email_status__in=[Contact.EmailStatus.BOUNCED, Contact.EmailStatus.COMPLAINED]
        )
    if purpose not in {Purpose.NEWSLETTER, Purpose.TOPIC}:
        return contacts.none()
    contacts = contacts.filter(email_status=Contact.EmailStatus.ACTIVE).filter(
        Q(email_paused_until__isnull=True) | Q(email_paused_until__lt=timezone.localdate())
    )
    if purpose == Purpose.TOPIC:
        if topic is None:
            raise ValueError("TOPIC purpose needs a topic")
        contacts = contacts.filter(
            Exists(
                Subscription.objects.filter(
                    contact=OuterRef("pk"), topic=topic, status=Subscription.Status.ACTIVE
                )
            )
        )
    return contacts.annotate(_consent=consent_latest_action(purpose, topic)).filter(
        _consent=ConsentRecord.Action.GRANTED
    )


def may_track(*, contact: Contact) -> bool:
    return not contact.is_anonymised and consent_is_granted(
        contact=contact, purpose=Purpose.TRACKING
    )


def contact_timeline(*, contact: Contact) -> QuerySet[Touchpoint]:
    return (
        Touchpoint.objects.filter(contact=contact)
        .select_related("subject_type")
        .order_by("-occurred_at", "-id")
    )


def contacts_with_email(email: str) -> QuerySet[Contact]:
    """Contacts with this address, any case; uses the unique index on Lower("email")
    (`email__iexact` compares UPPER() and scans the whole table)."""
    return Contact.objects.alias(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower()
    )


def contacts_with_emails(emails: Iterable[str]) -> QuerySet[Contact]:
    """Contacts with any of these addresses, any case; one look-up on the Lower("email") index."""
    return Contact.objects.alias(email_lower=Lower("email")).filter(
        email_lower__in=[e.strip().lower() for e in emails]
    )


def contact_by_email(email: str) -> Contact | None:
    return contacts_with_email(email).first()
