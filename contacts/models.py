"""The CRM hub: citizens, their interests and consents, and every touchpoint with them.

`contacts` imports no other app of ours; every journey stage writes into it through
`contacts.services` and reads through `contacts.selectors`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CONTENT_LANGUAGES = [
    ("es", _("Spanish")),
    ("ca", _("Catalan")),
    ("eu", _("Basque")),
    ("gl", _("Galician")),
    ("en", _("English")),
]


def private_storage() -> Storage:
    return storages["private"]


postal_code_validator = RegexValidator(
    r"^(0[1-9]|[1-4]\d|5[0-2])\d{3}$",
    _("Enter a valid Spanish postal code: five digits, starting 01–52."),
)


def birth_year_validators() -> list[Any]:
    return [MinValueValidator(1900), MaxValueValidator(2100)]


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    """A citizen interest in the institution's taxonomy (names translated per language)."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("offered to citizens"),
        default=True,
        help_text=_("Shown in forms and the preference centre."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    """A citizen persona: a fictional character standing for one main group of citizens."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    picture = models.ImageField(_("picture"), upload_to="personas/", blank=True)
    picture_alt = models.CharField(_("picture description"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    background = models.TextField(_("background"), blank=True)
    goals = models.TextField(_("goals"), blank=True)
    frustrations = models.TextField(_("frustrations"), blank=True)
    motivations = models.TextField(_("motivations"), blank=True)
    preferred_channels = models.TextField(_("preferred channels"), blank=True)
    expectations = models.TextField(_("expectations"), blank=True)
    rules = models.JSONField(
        _("rules"),
        default=dict,
        blank=True,
        help_text=_("Who belongs to this persona, in the segment rule language."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )

    class Meta:
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Source(models.TextChoices):
        FORM = "form", _("form")
        IMPORT = "import", _("import")
        API = "api", _("API")
        MANUAL = "manual", _("manual")

    class Lifecycle(models.TextChoices):
        CONTACT = "contact", _("contact")
        SUBSCRIBER = "subscriber", _("subscriber")
        ENGAGED = "engaged", _("engaged")
        ADVOCATE = "advocate", _("advocate")

    class EmailStatus(models.TextChoices):
        ACTIVE = "active", _("active")
        UNCONFIRMED = "unconfirmed", _("unconfirmed")
        BOUNCED = "bounced", _("bounced")
        COMPLAINED = "complained", _("complained")
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")

    # Nullable: an erased contact keeps its row (for aggregates) but no email.
    email = models.EmailField(_("email"), max_length=254, null=True, blank=True)  # noqa: DJ001
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=20,
        blank=True,
        help_text=_("Stored in international E.164 form, e.g. +34600123456."),
    )
    language = models.CharField(
        _("preferred language"), max_length=2, choices=CONTENT_LANGUAGES, default="es"
    )
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[postal_code_validator]
    )
    district = models.CharField(_("district"), max_length=100, blank=True, db_index=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, validators=birth_year_validators()
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    lifecycle = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=Lifecycle.choices,
        default=Lifecycle.CONTACT,
        db_index=True,
    )
    email_status = models.CharField(
        _("email status"),
        max_length=16,
        choices=EmailStatus.choices,
        default=EmailStatus.UNCONFIRMED,
        db_index=True,
    )
    email_verified_at = models.DateTimeField(_("email verified"), null=True, blank=True)
    email_paused_until = models.DateField(
        _("email paused until"),
        null=True,
        blank=True,
        help_text=_("The citizen asked for no email until this date."),
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    properties = models.JSONField(_("custom properties"), default=dict, blank=True)
    persona = models.ForeignKey(
        Persona,
        verbose_name=_("persona"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_activity_at = models.DateTimeField(
        _("last activity"), null=True, blank=True, db_index=True
    )
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    # Optimistic concurrency: a save based on an older version is refused, never silently lost.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "-id"]
        permissions = [("export_contact", _("Can export contacts' personal data"))]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="contact_email_ci_uniq"),
        ]

    def __str__(self) -> str:
        if self.anonymised_at:
            return str(_("Anonymised contact #%(id)s") % {"id": self.pk})
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.email}>" if name else str(self.email)

    @property
    def audit_label(self) -> str:
        """The audit log outlives erasure: it names contacts by id only."""
        return f"contact #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def age(self) -> int | None:
        return timezone.localdate().year - self.birth_year if self.birth_year else None

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class ContactProperty(models.Model):
    """A custom property staff define; values live in Contact.properties, typed by this."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        BOOLEAN = "boolean", _("yes/no")
        CHOICE = "choice", _("choice")

    key = models.SlugField(
        _("key"),
        max_length=64,
        unique=True,
        help_text=_("Lowercase letters, digits and underscores."),
    )
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For the choice type: the allowed values."),
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("custom property")
        verbose_name_plural = _("custom properties")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.type == self.Type.CHOICE and not self.choices:
            raise ValidationError({"choices": _("A choice property needs at least one choice.")})
        if not isinstance(self.choices, list) or not all(isinstance(c, str) for c in self.choices):
            raise ValidationError({"choices": _("Choices must be a list of texts.")})

    def coerce(self, value: Any) -> Any:
        """The value as stored in JSON, or ValidationError in the citizen's language."""
        if value is None or value == "":
            return None
        try:
            if self.type == self.Type.NUMBER:
                if isinstance(value, bool):
                    raise ValueError
                number = float(str(value).replace(",", "."))
                return int(number) if number.is_integer() else number
            if self.type == self.Type.DATE:
                if isinstance(value, dt.date):
                    return value.isoformat()
                return dt.date.fromisoformat(str(value)).isoformat()
            if self.type == self.Type.BOOLEAN:
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in {"1", "true", "yes", "sí", "si", "y", "s"}:
                    return True
                if text in {"0", "false", "no", "n"}:
                    return False
                raise ValueError
            if self.type == self.Type.CHOICE:
                if str(value) not in self.choices:
                    raise ValidationError(
                        _("%(label)s: %(value)s is not one of the allowed choices."),
                        params={"label": self.label, "value": value},
                    )
                return str(value)
            text = str(value)
            if len(text) > 1000:
                raise ValidationError(
                    _("%(label)s: the text is too long (1,000 characters at most)."),
                    params={"label": self.label},
                )
            return text
        except (ValueError, TypeError):
            raise ValidationError(
                _("%(label)s: %(value)s is not a valid %(type)s."),
                params={"label": self.label, "value": value, "type": self.get_type_display()},
            ) from None


class Subscription(models.Model):
    """A contact's subscription to one topic (GovDelivery-style)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending confirmation")
        ACTIVE = "active", _("active")
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("as soon as there is news")
        DAILY = "daily", _("once a day, a digest")
        WEEKLY = "weekly", _("once a week, a digest")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="subscriptions")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    frequency = models.CharField(
        _("how often"), max_length=16, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["contact", "topic"], name="subscription_uniq"),
        ]
        # Covering (topic, status, contact): segment conditions on a topic use index-only scans.
        indexes = [
            models.Index(fields=["topic", "status", "contact"], name="subscription_topic_idx")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.topic_id} ({self.status})"


class ConsentRecord(models.Model):
    """One grant or withdrawal of consent, as shown and given (RGPD art. 7.1 proof).

    Append-only: the current state is the latest record per (contact, purpose, topic).
    """

    class Purpose(models.TextChoices):
        NEWSLETTER = "newsletter", _("general newsletter")
        TOPIC = "topic", _("topic information")
        TRACKING = "tracking", _("tracking and personalisation")
        SERVICE = "service", _("service processing")

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", _("consent (art. 6.1.a)")
        PUBLIC_TASK = "public_task", _("public task (art. 6.1.e)")
        LEGITIMATE_INTEREST = "legitimate_interest", _("legitimate interest (art. 6.1.f)")

    class Action(models.TextChoices):
        GRANTED = "granted", _("granted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Source(models.TextChoices):
        FORM = "form", _("form")
        IMPORT = "import", _("import")
        PREFERENCE_CENTRE = "preference_centre", _("preference centre")
        EMAIL = "email", _("link in an e-mail")
        STAFF = "staff", _("staff")
        API = "api", _("API")
        MERGE = "merge", _("merge")

    # PROTECT: the ledger outlives erasure (the row is anonymised, never deleted), and a
    # contact with a ledger cannot be hard-deleted by any path.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    text = models.TextField(_("text shown"))
    text_version = models.CharField(_("text version"), max_length=64)
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent ledger")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["contact", "purpose", "topic", "-occurred_at", "-id"],
                name="consent_current_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose="topic", topic__isnull=False)
                | (~models.Q(purpose="topic") & models.Q(topic__isnull=True)),
                name="consent_topic_iff_topic_purpose",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.purpose} {self.action} {self.occurred_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Merges re-point records to the surviving contact (queryset update); nothing else
        # may change a record once written.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)


class Touchpoint(models.Model):
    """One interaction of a citizen with the institution: the spine of the platform."""

    class Stage(models.TextChoices):
        ATTRACT = "attract", _("attract")
        CONVERT = "convert", _("convert")
        SERVE = "serve", _("serve")
        DELIGHT = "delight", _("delight")

    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=40)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    # A rotating pseudonymous hash for anonymous visitors — never a raw IP.
    visitor_key = models.CharField(_("visitor key"), max_length=64, blank=True)
    subject_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_id = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The contact's timeline, and behaviour conditions per contact and kind.
            models.Index(fields=["contact", "kind", "occurred_at"], name="tp_contact_kind_at_idx"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="tp_contact_timeline_idx"),
            # Analytics and segment windows over one kind.
            models.Index(fields=["kind", "occurred_at"], name="tp_kind_at_idx"),
            # Identity stitching: anonymous rows of one visitor.
            models.Index(
                fields=["visitor_key"],
                condition=models.Q(contact__isnull=True),
                name="tp_anonymous_visitor_idx",
            ),
            models.Index(fields=["subject_type", "subject_id", "kind"], name="tp_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class Segment(models.Model):
    """A group of contacts: dynamic (rules compiled to one query) or static (listed members)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("dynamic (rules)")
        STATIC = "static", _("static list")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    members = models.ManyToManyField(
        Contact, through="SegmentMember", blank=True, related_name="static_segments"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """Manual membership of a static list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segmentmember_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} ∋ {self.contact_id}"


class SegmentSnapshot(models.Model):
    """A segment's members frozen at one moment, e.g. for one sending."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(default=timezone.now)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.segment} @ {self.taken_at:%Y-%m-%d %H:%M} ({self.size})"


class SnapshotMember(models.Model):
    snapshot = models.ForeignKey(SegmentSnapshot, on_delete=models.CASCADE, related_name="rows")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "contact"], name="snapshotmember_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} ∋ {self.contact_id}"


class Tombstone(models.Model):
    """The keyed hash of an erased email: re-imports must not bring the person back."""

    email_hash = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email_hash[:12]


class UsedToken(models.Model):
    """A single-use link that has been used (download or erase one's data: `contacts.links`).

    Only the SHA-256 of the token is kept, never the token or whom it named; the unique
    constraint is what makes a second use (a double click, a replayed e-mail) fail. A row is
    useless once its token would have expired anyway, and is purged then."""

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20)
    used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.purpose} {self.token_hash[:12]}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    # Uploaded lists hold personal data: kept outside MEDIA_ROOT (never served) and deleted
    # once imported; abandoned uploads are purged daily.
    file = models.FileField(_("file"), upload_to="imports/", storage=private_storage)
    original_name = models.CharField(max_length=255, blank=True)
    # The column names (the file's first row), read at upload (CSV) or by the worker (XLSX);
    # emptied when the import ends, since a file without a header has a person's data there.
    header = models.JSONField(_("columns of the file"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict)
    legal_basis = models.CharField(
        _("legal basis"), max_length=24, choices=ConsentRecord.LegalBasis.choices
    )
    consent_text = models.TextField(_("consent text or reference"), blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class DerivedRefresh(models.Model):
    """A contact whose lifecycle stage and persona must be recomputed: a queue in the database.

    Written in the same transaction as the touchpoint or data that made it stale, so it is never
    lost; drained in batches by `contacts.derived.derived_refresh_pending` every few seconds,
    so a burst of form submissions costs one set-based UPDATE per batch, not one per request.
    """

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact awaiting recomputation")
        verbose_name_plural = _("contacts awaiting recomputation")

    def __str__(self) -> str:
        return str(self.contact_id)
