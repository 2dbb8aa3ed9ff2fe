"""Unsubscribing from a campaign's e-mail in one click (RFC 8058), with a link that lasts.

Every campaign message carries `List-Unsubscribe: <https://…/baja/TOKEN/>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`: large mailbox providers show an
"unsubscribe" button that POSTs there without cookies, so the signed token is what protects it,
not CSRF. The token names the contact (and the address it was sent to: a changed address
invalidates it) and the campaign; it does not expire, because people unsubscribe from old mail
and all it can do is stop mail. Unsubscribing withdraws the consent the campaign relied on (the
newsletter, or that one topic and its subscription), in the ledger and as a touchpoint; doing it
again changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from contacts.models import ConsentRecord, Contact, Subscription, Topic
from contacts.selectors import consent_is_granted
from contacts.services import consent_record, subscription_set, touchpoint_record
from contacts.validation import email_fingerprint, email_hash
from inbound.lib.errors import DomainError
from inbound.lib.signatures import Signer

SALT = "campaigns.unsubscribe"


class UnsubscribeLinkInvalid(DomainError):
    status = 404


def _fingerprint(contact: Contact) -> str:
    return email_fingerprint(contact.email) if contact.email else ""


def _fingerprint_matches(value: object, contact: Contact) -> bool:
    """Whether a token's fingerprint is the contact's address. Links sent before fingerprints
    had their own key carry the first 16 characters of `email_hash` instead: they never
    expire and must go on unsubscribing, so that form is accepted too (it matches once
    PERSONAL_DATA_KEY is set to the SECRET_KEY they were made with: docs/operations.md)."""
    if not contact.email or not isinstance(value, str):
        return False
    return value in {_fingerprint(contact), email_hash(contact.email)[:16]}


def unsubscribe_token(*, contact: Contact, campaign: Campaign) -> str:
    return Signer(SALT).sign_object({"c": contact.pk, "k": campaign.pk, "e": _fingerprint(contact)})


def unsubscribe_url(*, token: str, language: str) -> str:
    with translation.override(language):
        path = reverse("campaigns:unsubscribe", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def unsubscribe_read(token: str) -> tuple[Contact, Campaign]:
    """The contact and campaign a token names, or UnsubscribeLinkInvalid."""
    invalid = UnsubscribeLinkInvalid(_("This link is not valid."), code="invalid")
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise invalid from None
    if not isinstance(payload, dict):
        raise invalid
    contact_id, campaign_id = payload.get("c"), payload.get("k")
    if not isinstance(contact_id, int) or not isinstance(campaign_id, int):
        raise invalid
    contact = Contact.objects.filter(pk=contact_id, anonymised_at__isnull=True).first()
    campaign = Campaign.objects.select_related("topic", "email").filter(pk=campaign_id).first()
    if contact is None or campaign is None or not _fingerprint_matches(payload.get("e"), contact):
        raise invalid
    return contact, campaign


@transaction.atomic
def campaign_unsubscribe(*, contact: Contact, campaign: Campaign) -> bool:
    """Withdraw what the campaign relied on; False when there was nothing left to withdraw."""
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    topic = campaign.topic if campaign.purpose == Campaign.Purpose.TOPIC else None
    with translation.override(settings.LANGUAGE_CODE):  # the ledger keeps the text shown
        text = (
            _("Stop sending me %(topic)s.") % {"topic": topic.name}
            if topic is not None
            else _("Stop sending me the newsletter.")
        )
    changed = consent_withdraw(
        contact=contact,
        campaign=campaign,
        text=text,
        text_version="unsubscribe-1",
    )
    if changed:
        touchpoint_record(
            kind="unsubscribe",
            contact=contact,
            subject=campaign,
            properties={
                "scope": campaign.purpose,
                **({"topic": topic.slug} if topic is not None else {}),
                "campaign": campaign.pk,
                "source": ConsentRecord.Source.EMAIL,
            },
        )
    return changed


def consent_withdraw(
    *,
    contact: Contact,
    campaign: Campaign | None,
    text: str,
    text_version: str,
) -> bool:
    """Withdraw what `campaign` relied on (the newsletter, or its topic's grant and
    subscription; the newsletter when no campaign is known); False when nothing was left."""
    topic: Topic | None = None
    purpose: str = ConsentRecord.Purpose.NEWSLETTER
    if campaign is not None and campaign.purpose == Campaign.Purpose.TOPIC:
        topic, purpose = campaign.topic, ConsentRecord.Purpose.TOPIC
    changed = False
    if topic is not None and (
        Subscription.objects.filter(
            contact=contact, topic=topic, status=Subscription.Status.ACTIVE
        ).exists()
    ):
        subscription_set(contact=contact, topic=topic, status=Subscription.Status.UNSUBSCRIBED)
        changed = True
    if consent_is_granted(contact=contact, purpose=purpose, topic=topic):
        consent_record(
            contact=contact,
            purpose=purpose,
            topic=topic,
            action=ConsentRecord.Action.WITHDRAWN,
            legal_basis=ConsentRecord.LegalBasis.CONSENT,
            text=text,
            text_version=text_version,
            source=ConsentRecord.Source.EMAIL,
        )
        changed = True
    return changed
