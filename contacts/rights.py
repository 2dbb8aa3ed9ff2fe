"""Citizens' rights over their data (RGPD arts. 15–21): preferences, export, erasure, retention.

Citizens never log in: they reach these through signed links (`contacts.links`). The preference
centre's link, in every e-mail, changes only what we send; downloading or erasing one's data
takes a fresh single-use link asked for on the site. Every change a citizen makes is recorded in
the consent ledger with the text they saw.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

# The signed links moved to contacts.links; callers of contacts.rights keep these names.
from contacts.links import (  # noqa: F401
    DATA_EXPORT,
    ERASURE,
    PREFERENCES,
    RATE_LIMIT_PER_HOUR,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    email_language,
    rate_limit_hit,
    rights_link_email,
    rights_token_make,
    rights_token_read,
    rights_token_use,
    rights_url,
)
from contacts.models import (
    ConsentRecord,
    Contact,
    Subscription,
    Tombstone,
    Topic,
)
from contacts.selectors import consent_is_granted, consent_latest_action
from contacts.services import consent_record, subscription_set, touchpoint_record
from contacts.validation import email_hash
from inbound.audit import audit_record
from inbound.lib.personal_data import Identity, personal_data_erase, personal_data_export

# Bump when the wording of the preference centre's consent texts changes (RGPD art. 7.1 proof).
CONSENT_TEXT_VERSION = "preference-centre-2026-1"
PAUSE_MONTHS = (1, 3, 6)


# --- Rights exercised through a single-use link (contacts.links) ------------------------------


def contact_data_zip_by_link(*, token: str, request: HttpRequest | None = None) -> bytes:
    """The ZIP of the contact a data link names, spending the link (art. 15 and 20).

    LinkExpired, LinkUsed or LinkInvalid when it may not: nothing is exported then."""
    with transaction.atomic():
        contact = rights_token_use(token=token, purpose=DATA_EXPORT)
        return contact_data_zip(contact=contact, request=request)


@transaction.atomic
def contact_erase_by_link(*, token: str, request: HttpRequest | None = None) -> Contact:
    """Erase the contact an erasure link names, spending the link (art. 17).

    LinkExpired, LinkUsed or LinkInvalid when it may not: nothing is erased then."""
    contact = rights_token_use(token=token, purpose=ERASURE)
    return contact_anonymise(
        contact=contact, request=request, reason="erasure requested by the citizen"
    )


def _lock(contact: Contact) -> None:
    """Lock the row for this transaction and load its current values into `contact`."""
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk").first()
    contact.refresh_from_db()


# --- Preferences ----------------------------------------------------------------------------


def public_topics() -> QuerySet[Topic]:
    return Topic.objects.filter(is_public=True).order_by("order", "slug")


def topics_consent_text() -> str:
    """The sentence shown above the topic checkboxes (recorded with each topic choice)."""
    return _("Send me email about the topics I tick. I can change this at any time.")


def newsletter_consent_text() -> str:
    return _("Send me the general newsletter of %(institution)s.") % {
        "institution": settings.INSTITUTION["name"]
    }


def subscribed_topic_ids(*, contact: Contact) -> set[int]:
    return set(
        Subscription.objects.filter(contact=contact, status=Subscription.Status.ACTIVE).values_list(
            "topic_id", flat=True
        )
    )


def pause_until(
    *, choice: str, date: dt.date | None, today: dt.date | None = None
) -> dt.date | None:
    """The date email is paused until for a choice: "none", a number of months, or "date"."""
    today = today or timezone.localdate()
    if choice == "date":
        return date
    if choice.isdigit() and int(choice) in PAUSE_MONTHS:
        return today + relativedelta(months=int(choice))
    return None


@dataclass
class PreferencesIn:
    topics: Iterable[Topic]
    newsletter: bool
    language: str
    email_paused_until: dt.date | None
    # The texts exactly as the page showed them, for the ledger.
    topic_labels: dict[int, str] = field(default_factory=dict)
    # How often each topic's news comes (topic id -> Subscription.Frequency); absent: unchanged.
    frequencies: dict[int, str] = field(default_factory=dict)


def _consent(
    contact: Contact, *, purpose: str, action: str, text: str, topic: Topic | None = None
) -> None:
    # No IP-derived value: the ledger is kept after erasure, and a hash of the address there
    # would be a lasting, recomputable trace of it (the signed link is what proves the act).
    consent_record(
        contact=contact,
        purpose=purpose,
        topic=topic,
        action=action,
        legal_basis=ConsentRecord.LegalBasis.CONSENT,
        text=text,
        text_version=CONSENT_TEXT_VERSION,
        source=ConsentRecord.Source.PREFERENCE_CENTRE,
    )


def _frequencies_set(
    contact: Contact, *, topics: dict[int, Topic], frequencies: dict[int, str]
) -> dict[str, str]:
    """How often each ticked topic's news comes; {topic slug: frequency} of what changed.

    Not consent (the citizen agreed to the topic, not to a rhythm), so no ledger record: the
    change is kept in the `preferences_updated` touchpoint."""
    changed: dict[str, str] = {}
    wanted = {pk: value for pk, value in frequencies.items() if pk in topics}
    for subscription in Subscription.objects.filter(contact=contact, topic_id__in=list(wanted)):
        frequency = wanted[subscription.topic_id]
        if subscription.frequency != frequency:
            subscription.frequency = frequency
            subscription.save(update_fields=["frequency", "updated_at"])
            changed[topics[subscription.topic_id].slug] = frequency
    return changed


@transaction.atomic
def preferences_update(*, contact: Contact, data: PreferencesIn) -> Contact:
    """Save a citizen's choices from the preference centre, each change in the ledger."""
    _lock(contact)
    wanted = {t.pk: t for t in data.topics}
    had = subscribed_topic_ids(contact=contact)
    added: list[str] = []
    removed: list[str] = []
    intro = topics_consent_text()
    for topic in public_topics():
        text = f"{intro} {data.topic_labels.get(topic.pk, topic.name)}"
        granted = consent_is_granted(
            contact=contact, purpose=ConsentRecord.Purpose.TOPIC, topic=topic
        )
        if topic.pk in wanted and topic.pk not in had:
            subscription_set(contact=contact, topic=topic, status=Subscription.Status.ACTIVE)
            _consent(contact, purpose="topic", action="granted", text=text, topic=topic)
            added.append(topic.slug)
        elif topic.pk not in wanted and (topic.pk in had or granted):
            if Subscription.objects.filter(contact=contact, topic=topic).exists():
                subscription_set(
                    contact=contact, topic=topic, status=Subscription.Status.UNSUBSCRIBED
                )
            if granted:
                _consent(contact, purpose="topic", action="withdrawn", text=text, topic=topic)
            removed.append(topic.slug)
    frequencies = _frequencies_set(contact, topics=wanted, frequencies=data.frequencies)
    newsletter_was = consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER)
    if data.newsletter != newsletter_was:
        _consent(
            contact,
            purpose="newsletter",
            action="granted" if data.newsletter else "withdrawn",
            text=newsletter_consent_text(),
        )
    changed: dict[str, Any] = {}
    if contact.language != data.language:
        contact.language = changed["language"] = data.language
    if contact.email_paused_until != data.email_paused_until:
        contact.email_paused_until = data.email_paused_until
        changed["email_paused_until"] = (
            data.email_paused_until.isoformat() if data.email_paused_until else None
        )
    if (added or data.newsletter) and contact.email_status in {
        Contact.EmailStatus.UNSUBSCRIBED,
        Contact.EmailStatus.UNCONFIRMED,
    }:
        # The citizen opened a link sent to this address: it is theirs and it works.
        contact.email_status = Contact.EmailStatus.ACTIVE
        contact.email_verified_at = contact.email_verified_at or timezone.now()
    contact.version = F("version") + 1
    contact.save()
    touchpoint_record(
        kind="preferences_updated",
        contact=contact,
        properties={
            "topics_added": added,
            "topics_removed": removed,
            "newsletter": data.newsletter,
            **({"frequencies": frequencies} if frequencies else {}),
            **changed,
        },
    )
    contact.refresh_from_db()
    return contact


@transaction.atomic
def unsubscribe_all(*, contact: Contact) -> Contact:
    """Withdraw every topic and the newsletter; only service mail may still be sent."""
    _lock(contact)
    text = _("Unsubscribe me from all email from %(institution)s.") % {
        "institution": settings.INSTITUTION["name"]
    }
    topic_ids = set(
        ConsentRecord.objects.filter(
            contact=contact, purpose=ConsentRecord.Purpose.TOPIC
        ).values_list("topic_id", flat=True)
    ) | set(Subscription.objects.filter(contact=contact).values_list("topic_id", flat=True))
    for topic in Topic.objects.filter(pk__in=topic_ids):
        subscription_set(contact=contact, topic=topic, status=Subscription.Status.UNSUBSCRIBED)
        if consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.TOPIC, topic=topic):
            _consent(contact, purpose="topic", action="withdrawn", text=text, topic=topic)
    if consent_is_granted(contact=contact, purpose=ConsentRecord.Purpose.NEWSLETTER):
        _consent(contact, purpose="newsletter", action="withdrawn", text=text)
    contact.email_status = Contact.EmailStatus.UNSUBSCRIBED
    contact.version = F("version") + 1
    contact.save()
    touchpoint_record(
        kind="unsubscribe",
        contact=contact,
        properties={"scope": "all", "source": ConsentRecord.Source.PREFERENCE_CENTRE},
    )
    contact.refresh_from_db()
    return contact


# --- Access and portability (arts. 15 and 20) ------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


CONTACT_FIELDS = (
    "email", "first_name", "last_name", "phone", "language", "postal_code", "district",
    "birth_year", "source", "lifecycle", "email_status", "email_verified_at",
    "email_paused_until", "created_at", "updated_at", "last_activity_at",
)  # fmt: skip


def contact_summary(*, contact: Contact) -> dict[str, Any]:
    """The contact's own row for the access export: fields, properties, tags, persona, lists."""
    return {
        **{name: _iso(getattr(contact, name)) for name in CONTACT_FIELDS},
        "custom_properties": contact.properties,
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "persona": contact.persona.name if contact.persona else None,
        "static_lists": sorted(contact.static_segments.values_list("name", flat=True)),
    }


def contact_identity(contact: Contact) -> Identity:
    """Who the contact is, for the registry's walkers (inbound.lib.personal_data)."""
    return Identity.of(
        contact.pk,
        email=(contact.email or "").lower(),
        email_hash=email_hash(contact.email) if contact.email else "",
        values=(contact.phone, contact.full_name, contact.first_name, contact.last_name,
                contact.postal_code),
    )  # fmt: skip


def contact_data(*, contact: Contact) -> dict[str, Any]:
    """Everything the personal-data registry holds about the contact, as JSON-ready sections
    (contact, subscriptions, consents, touchpoints, submissions, files, deliveries, workflows…).
    """
    sections, _files = personal_data_export(identity=contact_identity(contact))
    return {name: rows[0] if name == "contact" else rows for name, rows in sections.items()}


def contact_data_zip(
    *, contact: Contact, actor: Any = None, request: HttpRequest | None = None
) -> bytes:
    """The ZIP a citizen (or staff for them) downloads: data.json, a readable data.html in the
    contact's language, README.txt and the files they sent us. Audited."""
    sections, files = personal_data_export(identity=contact_identity(contact))
    data: dict[str, Any] = {
        name: rows[0] if name == "contact" else rows for name, rows in sections.items()
    }
    data["exported_at"] = timezone.now().isoformat()
    language = email_language(contact, translation.get_language())
    with translation.override(language):
        context = {
            "institution": settings.INSTITUTION,
            "exported_at": timezone.localtime(),
            "data": data,
            "sections": export_sections(data),
            "files": files,
            "language": language,
        }
        readme = render_to_string("contacts/email/data_readme.txt", context)
        page = render_to_string("contacts/data_export.html", context)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("data.html", page)
        archive.writestr("README.txt", readme)
        for exported in files:
            with exported.storage.open(exported.stored_name, "rb") as stream:
                archive.writestr(f"files/{exported.row_id}-{exported.name}", stream.read())
    audit_record(
        action="data_exported_by_citizen" if actor is None else "contact_data_exported",
        actor=actor,
        obj=contact,
        request=request,
    )
    return buffer.getvalue()


def export_sections(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(translated title, rows) of the export, in a reading order, for the HTML page."""
    titles = {
        "contact": _("Your details"),
        "subscriptions": _("Your subscriptions"),
        "consents": _("Your consents"),
        "submissions": _("Forms you sent"),
        "files": _("Files you sent"),
        "deliveries": _("E-mails we sent you"),
        "workflows": _("Automated series you went through"),
        "touchpoints": _("Your interactions with us"),
    }
    ordered = [name for name in titles if name in data]
    ordered += sorted(n for n in data if n not in titles and n != "exported_at")
    return [(str(titles.get(name, name)), data[name]) for name in ordered]


# --- Erasure (art. 17) and retention ---------------------------------------------------------


@transaction.atomic
def contact_anonymise(
    *, contact: Contact, actor: Any = None, request: HttpRequest | None = None, reason: str
) -> Contact:
    """Erase the person from every row the personal-data registry knows, keeping an
    identity-less contact row so aggregates still add up.

    Pending work (outbox e-mails and webhooks, deliveries, workflow actions) is cancelled first,
    so nothing is sent after erasure. The email is remembered only as a keyed hash (a
    tombstone) so imports cannot bring them back. The consent ledger stays on the row as proof
    of what was agreed: the row no longer says who. Running it twice changes nothing more.
    """
    _lock(contact)
    if contact.is_anonymised:
        return contact
    identity = contact_identity(contact)
    if contact.email:
        Tombstone.objects.get_or_create(email_hash=identity.email_hash)
    personal_data_erase(identity=identity, skip=["contacts.Contact"])
    contact.tags.clear()
    Contact.objects.filter(pk=contact.pk).update(
        email=None,
        first_name="",
        last_name="",
        phone="",
        language=Contact._meta.get_field("language").default,
        postal_code="",
        district="",
        birth_year=None,
        properties={},
        persona=None,
        email_status=Contact.EmailStatus.UNSUBSCRIBED,
        email_verified_at=None,
        email_paused_until=None,
        last_activity_at=None,
        anonymised_at=timezone.now(),
        updated_at=timezone.now(),
        version=F("version") + 1,
    )
    contact.refresh_from_db()
    audit_record(
        action="contact_anonymised",
        actor=actor,
        obj=contact,
        request=request,
        detail={"reason": reason[:200]},
    )
    return contact


def retention_candidates(*, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Contacts with no current consent to keep in touch and no activity for the period."""
    now = now or timezone.now()
    cutoff = now - relativedelta(months=getattr(settings, "CONTACT_RETENTION_MONTHS", 24))
    topic_records = ConsentRecord.objects.filter(purpose=ConsentRecord.Purpose.TOPIC)
    later = topic_records.filter(contact=OuterRef("contact"), topic=OuterRef("topic")).filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), id__gt=OuterRef("id"))
    )
    current_topic_grant = topic_records.filter(
        contact=OuterRef("pk"), action=ConsentRecord.Action.GRANTED
    ).exclude(Exists(later))
    withdrawn = ConsentRecord.Action.WITHDRAWN
    return (
        Contact.objects.filter(anonymised_at__isnull=True)
        .annotate(
            _active_at=Coalesce("last_activity_at", "created_at"),
            _newsletter=consent_latest_action(ConsentRecord.Purpose.NEWSLETTER, None),
            _tracking=consent_latest_action(ConsentRecord.Purpose.TRACKING, None),
        )
        .filter(_active_at__lt=cutoff)
        # Spelt as "none or withdrawn": NOT (x = 'granted') is never true for SQL's NULL.
        .filter(Q(_newsletter__isnull=True) | Q(_newsletter=withdrawn))
        .filter(Q(_tracking__isnull=True) | Q(_tracking=withdrawn))
        .exclude(Exists(current_topic_grant))
    )


def contacts_retention_sweep(*, now: dt.datetime | None = None) -> int:
    """Anonymise every contact kept past the retention period without a reason; the count.

    One transaction per contact: a failure leaves the others done and the run resumable.
    """
    months = getattr(settings, "CONTACT_RETENTION_MONTHS", 24)
    ids = list(retention_candidates(now=now).values_list("pk", flat=True))
    done = 0
    for pk in ids:
        with transaction.atomic():
            # Checked again under the lock: the citizen may have come back since the query.
            contact = retention_candidates(now=now).select_for_update().filter(pk=pk).first()
            if contact is None:
                continue
            contact_anonymise(contact=contact, reason=f"retention: {months} months without consent")
            done += 1
    audit_record(action="contacts_retention_sweep", detail={"anonymised": done, "months": months})
    return done
