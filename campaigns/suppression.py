"""Addresses that must not be e-mailed again: hard bounces and spam complaints.

They are reported by an ESP's webhook (`campaigns.webhooks`) or answered by the SMTP server
while we send (`campaigns.sending`: "550 5.1.1 user unknown" at RCPT). Either way the contact's
`email_status` changes, which every sending path checks (`contacts.selectors.may_email` and
`contacts_emailable`), the delivery shows it, and the timeline gets a touchpoint.

- A hard bounce means the address does not exist: BOUNCED, and nothing else. Consent is not
  touched (the person withdrew nothing; if they give a working address again, what they agreed
  to still stands). A soft bounce (full mailbox, server down) suppresses nothing.
- A complaint ("this is spam") is the person saying stop: COMPLAINED, and the consent the
  campaign relied on is withdrawn in the ledger, as an unsubscribe would.
- Each is idempotent: the same report twice records nothing more.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.models import Delivery
from campaigns.unsubscribe import campaign_unsubscribe, consent_withdraw
from contacts.models import ConsentRecord, Contact
from contacts.services import touchpoint_record

BOUNCED, COMPLAINED = Contact.EmailStatus.BOUNCED, Contact.EmailStatus.COMPLAINED

# RFC 3463 enhanced status codes that say the address itself is wrong, for good: X.1.X
# "addressing status" (bad mailbox 5.1.1, bad domain 5.1.2, bad syntax 5.1.3, moved 5.1.6,
# null MX 5.1.10) and 5.2.1 "mailbox disabled". Other 5xx (policy, spam filters, our own
# reputation: 5.7.x) fail the delivery but say nothing about the address.
_ADDRESS_GONE = re.compile(r"\b5\.(?:1\.\d{1,3}|2\.1)\b")
_SMTP_CLASS = re.compile(r"(?:^|[\s;:])([245])(?:\d\d(?=[\s-]|$)|\.\d{1,3}\.\d{1,3}\b)")


def address_is_gone(code: int, reason: str) -> bool:
    """Does this SMTP refusal of a recipient say the address does not exist?"""
    return code >= 500 and _ADDRESS_GONE.search(reason) is not None


def smtp_reply_is_transient(reply: str) -> bool:
    """A 4xx reply code or 4.x.x status in a bounce report: a soft bounce."""
    match = _SMTP_CLASS.search(reply)
    return match is not None and match.group(1) == "4"


def _delivery_mark(delivery: Delivery | None, status: str, reason: str) -> bool:
    if delivery is None:
        return False
    final = [COMPLAINED] if status == COMPLAINED else [BOUNCED, COMPLAINED]
    return bool(
        Delivery.objects.filter(pk=delivery.pk)
        .exclude(status__in=final)
        .update(status=status, error=reason[:500], claimed_until=None)
    )


def _status_set(contact: Contact, status: str) -> bool:
    """Move the address to `status` unless it is already there (or complained, the stronger)."""
    final = [COMPLAINED] if status == COMPLAINED else [BOUNCED, COMPLAINED]
    changed = bool(
        Contact.objects.filter(pk=contact.pk)
        .exclude(email_status__in=final)
        .update(email_status=status, version=F("version") + 1, updated_at=timezone.now())
    )
    if changed:
        contact.email_status = status
    return changed


def _properties(delivery: Delivery | None, reason: str, source: str) -> dict[str, object]:
    return {
        **({"campaign": delivery.campaign_id} if delivery is not None else {}),
        "reason": reason[:300],
        "source": source,
    }


@transaction.atomic
def bounce_record(
    *, contact: Contact | None, delivery: Delivery | None, reason: str, source: str
) -> bool:
    """A hard bounce: the delivery BOUNCED and, when `contact` is given (the address bounced is
    still theirs), the contact BOUNCED with an `email_bounced` touchpoint. False when nothing
    changed."""
    changed = _delivery_mark(delivery, BOUNCED, reason)
    if contact is None:
        return changed
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if _status_set(contact, BOUNCED):
        touchpoint_record(
            kind="email_bounced",
            contact=contact,
            subject=delivery.campaign if delivery is not None else None,
            properties=_properties(delivery, reason, source),
        )
        changed = True
    return changed


@transaction.atomic
def complaint_record(
    *, contact: Contact | None, delivery: Delivery | None, reason: str, source: str
) -> bool:
    """A spam complaint: the delivery and the contact COMPLAINED, the consent the campaign relied
    on (the newsletter when the campaign is unknown) withdrawn in the ledger, an
    `email_complained` touchpoint. False when nothing changed."""
    changed = _delivery_mark(delivery, COMPLAINED, reason)
    if contact is None:
        return changed
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    campaign = delivery.campaign if delivery is not None else None
    with translation.override(settings.LANGUAGE_CODE):  # the ledger keeps the text in Spanish
        text = _("Reported our e-mail as spam to their mail provider.")
    withdrawn = consent_withdraw(
        contact=contact, campaign=campaign, text=text, text_version="complaint-1"
    )
    if _status_set(contact, COMPLAINED) or withdrawn:
        touchpoint_record(
            kind="email_complained",
            contact=contact,
            subject=campaign,
            properties=_properties(delivery, reason, source),
        )
        changed = True
    return changed


@transaction.atomic
def unsubscribe_record(*, contact: Contact, delivery: Delivery | None, source: str) -> bool:
    """An unsubscribe the ESP received (its own link or the mail program's button): the same as
    ours for the delivery's campaign, else a withdrawal of the newsletter."""
    if delivery is not None:
        return campaign_unsubscribe(contact=contact, campaign=delivery.campaign)
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Stop sending me the newsletter.")
    if not consent_withdraw(
        contact=contact, campaign=None, text=text, text_version="unsubscribe-1"
    ):
        return False
    touchpoint_record(
        kind="unsubscribe",
        contact=contact,
        properties={"scope": ConsentRecord.Purpose.NEWSLETTER, "source": source},
    )
    return True
