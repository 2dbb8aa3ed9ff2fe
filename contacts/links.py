"""Signed links for citizens, who never log in: what each purpose opens, and for how long.

- PREFERENCES, in every e-mail we send and on request: the preference centre (topics,
  newsletter, language, pause, unsubscribe from everything). It lasts
  PREFERENCES_LINK_MAX_AGE_DAYS and opens as often as needed: all it can do is change what we
  send.
- DATA_EXPORT and ERASURE: a copy of one's data, and its erasure. Sent only because someone
  asked on the site (or staff did for the citizen), never inside a campaign; valid
  RIGHTS_DATA_LINK_MAX_AGE_MINUTES (an hour) and single use (`UsedToken`), so an old or
  forwarded e-mail opens nothing. Opening the link only shows a page: the download or the
  erasure is a POST from its button (mail scanners follow links, they do not press buttons).

A token names the contact and a fingerprint of the address it was sent to
(`contacts.validation.email_fingerprint`, keyed on PERSONAL_DATA_KEY): it dies when the address
changes or the contact is erased, and survives a SECRET_KEY rotation (Django's signer tries
SECRET_KEY_FALLBACKS). A salt per purpose keeps a link of one purpose from opening another.

Asking for a link answers the same whether the address is ours or not, and is limited per
hashed IP (RATE_LIMIT_PER_HOUR) and per address (RIGHTS_EMAILS_PER_ADDRESS_PER_DAY), so nobody
can flood someone's inbox from many connections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import ConsentRecord, Contact, UsedToken
from contacts.selectors import may_email
from contacts.validation import email_fingerprint
from inbound.lib import ratelimit
from inbound.lib.errors import DomainError
from inbound.lib.signatures import Signer

PREFERENCES = "preferences"
DATA_EXPORT = "data_export"
ERASURE = "erasure"
SALTS = {
    PREFERENCES: "contacts.preferences",
    DATA_EXPORT: "contacts.data_export",
    ERASURE: "contacts.erasure",
}
SINGLE_USE = frozenset({DATA_EXPORT, ERASURE})
# The page each purpose's link opens, and the page where a citizen asks for a new one.
URL_NAMES = {PREFERENCES: "preferences", DATA_EXPORT: "data-download", ERASURE: "data-erase"}
REQUEST_URL_NAMES = {
    PREFERENCES: "preferences-request",
    DATA_EXPORT: "data-request",
    ERASURE: "data-request",
}
RATE_LIMIT_PER_HOUR = 5


class LinkInvalid(DomainError):
    status = 400


class LinkExpired(DomainError):
    status = 410


class LinkUsed(DomainError):
    status = 410


def max_age(purpose: str) -> dt.timedelta:
    if purpose == PREFERENCES:
        return dt.timedelta(days=settings.PREFERENCES_LINK_MAX_AGE_DAYS)
    return dt.timedelta(minutes=settings.RIGHTS_DATA_LINK_MAX_AGE_MINUTES)


def _fingerprint(contact: Contact) -> str:
    return email_fingerprint(contact.email) if contact.email else ""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rights_token_make(*, contact: Contact, purpose: str) -> str:
    """A signed token for one purpose, valid while the contact keeps this address."""
    if contact.is_anonymised or not contact.email:
        raise DomainError(_("This contact has no address to send a link to."))
    payload: dict[str, object] = {"c": contact.pk, "e": _fingerprint(contact)}
    if purpose in SINGLE_USE:
        # Two links asked for within the same second must still be two links, used apart.
        payload["n"] = secrets.token_urlsafe(6)
    return Signer(SALTS[purpose], timestamped=True).sign_object(payload)


def rights_token_read(*, token: str, purpose: str) -> Contact:
    """The contact a token names; LinkExpired, LinkUsed or LinkInvalid (which show no data).

    Changes nothing: a single-use token is spent only by `rights_token_use`."""
    signer = signing.TimestampSigner(salt=SALTS[purpose])
    try:
        payload = signer.unsign_object(token, max_age=max_age(purpose))
    except signing.SignatureExpired:
        raise LinkExpired(_("This link has expired."), code="expired") from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise LinkInvalid(_("This link is not valid."), code="invalid") from None
    # Before the contact: an erasure link clicked again finds no contact, and must still say
    # that it was used rather than that it is not valid.
    if purpose in SINGLE_USE and UsedToken.objects.filter(token_hash=_token_hash(token)).exists():
        raise LinkUsed(_("This link has already been used."), code="used")
    contact_id = payload.get("c") if isinstance(payload, dict) else None
    contact = (
        Contact.objects.filter(pk=contact_id, anonymised_at__isnull=True).first()
        if isinstance(contact_id, int)
        else None
    )
    if contact is None or not contact.email or payload.get("e") != _fingerprint(contact):
        raise LinkInvalid(_("This link is not valid."), code="invalid")
    return contact


def rights_token_use(*, token: str, purpose: str) -> Contact:
    """Read a single-use token and spend it; LinkUsed when it already was.

    Call it inside the transaction of what the link does: if that fails, the link stays
    unused. Two clicks at once race on the unique hash, and only one wins."""
    if purpose not in SINGLE_USE:
        raise ValueError(f"{purpose} links are not single use")
    contact = rights_token_read(token=token, purpose=purpose)
    try:
        with transaction.atomic():
            UsedToken.objects.create(
                token_hash=_token_hash(token),
                purpose=purpose,
                expires_at=timezone.now() + max_age(purpose),
            )
    except IntegrityError:
        raise LinkUsed(_("This link has already been used."), code="used") from None
    return contact


def used_tokens_purge(*, now: dt.datetime | None = None) -> int:
    """Forget used tokens that would have expired anyway; how many rows went."""
    deleted, _by_model = UsedToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def rights_url(*, contact: Contact, purpose: str, language: str) -> str:
    """The absolute link for the e-mail, in the citizen's language."""
    token = rights_token_make(contact=contact, purpose=purpose)
    with translation.override(language):
        path = reverse(f"contacts_public:{URL_NAMES[purpose]}", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def email_language(contact: Contact, language: str | None) -> str:
    """The language to write to the citizen in: the one asked for, theirs, or the site's."""
    site_languages = {code for code, _name in settings.LANGUAGES}
    for candidate in (language, contact.language):
        if candidate in site_languages:
            return str(candidate)
    return str(settings.LANGUAGE_CODE)


def _subject(purpose: str) -> str:
    if purpose == PREFERENCES:
        return _("Your email preferences")
    if purpose == ERASURE:
        return _("Erase your personal data")
    return _("Download a copy of your data")


def rights_link_email(*, contact: Contact, purpose: str, language: str | None = None) -> bool:
    """Send the citizen a link for `purpose`; False if we may not write to them.

    Service mail: the citizen asked for it, so only a deliverable address is needed.
    """
    if not may_email(contact=contact, purpose=ConsentRecord.Purpose.SERVICE):
        return False
    language = email_language(contact, language)
    with translation.override(language):
        context = {
            "url": rights_url(contact=contact, purpose=purpose, language=language),
            "institution": settings.INSTITUTION,
            "purpose": purpose,
            "max_age_days": max_age(PREFERENCES).days,
            "max_age_minutes": int(max_age(DATA_EXPORT).total_seconds() // 60),
        }
        message = EmailMultiAlternatives(
            subject=f"{_subject(purpose)} · {settings.INSTITUTION['name']}",
            body=render_to_string(f"contacts/email/{purpose}_link.txt", context),
            to=[contact.email or ""],
        )
        message.attach_alternative(
            render_to_string(f"contacts/email/{purpose}_link.html", context), "text/html"
        )
    message.send()
    return True


def rate_limit_hit(*, request: HttpRequest, scope: str) -> bool:
    """Count one request for a link from this (hashed) IP; True once over the hourly limit."""
    return ratelimit.rate_limit_hit(
        request=request, scope=f"contacts.rights.{scope}", limit=RATE_LIMIT_PER_HOUR, period=3600
    )
