"""The link that verifies a sender address: a signed token (salt of its own, valid for
`VERIFICATION_MAX_AGE`) naming the sender and a fingerprint of the address, so a link sent to an
old address stops working when the address changes; and the e-mail that carries it, sent by
`campaigns.tasks.email_sender_verification`. The writes are in `campaigns.senders`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns.models import Sender
from contacts.validation import email_fingerprint
from inbound.lib.errors import DomainError

SALT = "campaigns.senders.verification"
VERIFICATION_MAX_AGE = dt.timedelta(days=7)



class SenderLinkInvalid(DomainError):
    status = 404


class SenderLinkExpired(DomainError):
    status = 410


def _fingerprint(sender: Sender) -> str:
    return email_fingerprint(sender.email)


def sender_token(*, sender: Sender) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object(
        {"s": sender.pk, "e": _fingerprint(sender)}
    )


def sender_verification_url(*, sender: Sender) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("campaigns:sender-verify", kwargs={"token": sender_token(sender=sender)})
    return f"{settings.SITE_URL}{path}"


def sender_read(token: str) -> Sender:
    """The sender a token names; SenderLinkExpired past its age, else SenderLinkInvalid when it
    was tampered with or names an address the sender no longer has."""
    invalid = SenderLinkInvalid(_("This link is not valid."), code="invalid")
    try:
        payload = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise SenderLinkExpired(
            _("This link has expired. Ask for a new one to be sent."), code="expired"
        ) from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise invalid from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise invalid
    sender = Sender.objects.filter(pk=payload["s"]).first()
    if sender is None or payload.get("e") != _fingerprint(sender):
        raise invalid
    return sender


def sender_verification_email(*, sender: Sender) -> None:
    """Send the verification link to the sender's address (in the site's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "sender": sender,
            "url": sender_verification_url(sender=sender),
            "institution": settings.INSTITUTION,
            "max_age_days": VERIFICATION_MAX_AGE.days,
        }
        subject = _("Confirm %(address)s as a sender of %(institution)s") % {
            "address": sender.email,
            "institution": settings.INSTITUTION["name"],
        }
        body = render_to_string("campaigns/email/sender_verification.txt", context)
    EmailMessage(subject=subject, body=body, to=[sender.email]).send()
