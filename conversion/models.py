"""Convertir: staff-built forms, the submissions citizens send, and the outbox of what a
submission must still cause (e-mails, webhooks) once its transaction has committed.

`conversion` writes into the CRM only through `contacts.services`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorField

from contacts.models import ConsentRecord, Contact, private_storage
from content.models import Publishable, slug_constraints
from content.richtext import BODY_EXTENSIONS, rich_text_clean
from content.validators import validate_image
from inbound.lib.staff import email_is_valid, staff_addresses_problem
from inbound.lib.webhooks import webhook_fields_errors

# Internal path such as "/es/gracias/"; rejects "//host", schemes and backslashes that browsers
# read as hosts, so a form can never be turned into an open redirect.
_INTERNAL_PATH_RE = re.compile(r"^/(?![/\\])[^\s\\:]*$")


def validate_internal_path(value: str) -> None:
    if value and not _INTERNAL_PATH_RE.match(value):
        raise ValidationError(
            _('Enter a path on this site starting with "/", such as /es/gracias/.')
        )


def email_list_parse(value: str) -> list[str]:
    """Addresses from a comma- or line-separated list, blanks dropped."""
    return [part.strip() for part in re.split(r"[,;\n]", value or "") if part.strip()]


def validate_email_list(value: str) -> None:
    for address in email_list_parse(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("%(address)s is not a valid e-mail address."), params={"address": address}
            ) from None


# An origin as browsers send it: scheme, host and optional port, no path ("https://x.es:8443").
_ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def origin_list_parse(value: str) -> list[str]:
    """Origins from a line- or comma-separated list, lower-cased, without a trailing slash."""
    parts = re.split(r"[,\s]+", value or "")
    return [part.strip().rstrip("/").lower() for part in parts if part.strip()]


def validate_origin_list(value: str) -> None:
    for origin in origin_list_parse(value):
        if not _ORIGIN_RE.match(origin):
            raise ValidationError(
                _("%(origin)s is not a site address such as https://www.villaclara.es."),
                params={"origin": origin},
            )


class Form(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        ARCHIVED = "archived", _("archived")

    name = models.CharField(
        _("internal name"), max_length=120, unique=True, help_text=_("Only staff see it.")
    )
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        help_text=_(
            "The last part of the form's address: boletin-movilidad gives "
            "/es/formularios/boletin-movilidad/."
        ),
    )
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    submit_label = models.CharField(_("submit button text"), max_length=60, blank=True)
    success_message = models.TextField(_("success message"))
    redirect_path = models.CharField(
        _("redirect after sending"),
        max_length=200,
        blank=True,
        validators=[validate_internal_path],
        help_text=_("A path on this site, e.g. /es/gracias/. Empty: show the success message."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Goes up when a published form's fields change; each submission keeps it."),
    )
    double_opt_in = models.BooleanField(
        _("double opt-in"),
        default=True,
        help_text=_("Subscriptions start once the citizen confirms from an e-mail."),
    )
    notify_emails = models.TextField(
        _("notify staff"),
        blank=True,
        validators=[validate_email_list],
        help_text=_("E-mail addresses told of each submission, separated by commas or lines."),
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=64,
        blank=True,
        help_text=_(
            "Shared with the receiving system, which checks X-Inbound-Signature: the time and "
            "an HMAC-SHA256 of the time and the body (docs/webhooks.md)."
        ),
    )
    progressive_max_fields = models.PositiveSmallIntegerField(
        _("maximum fields for known contacts"),
        null=True,
        blank=True,
        help_text=_(
            "Progressive profiling: at most this many fields are shown to a recognised contact."
        ),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=24,
        choices=ConsentRecord.LegalBasis.choices,
        default=ConsentRecord.LegalBasis.CONSENT,
    )
    purpose_notice = models.TextField(
        _("purpose"), help_text=_("The purpose line of the first-layer data-protection notice.")
    )
    embed_origins = models.TextField(
        _("sites that may embed it"),
        blank=True,
        validators=[validate_origin_list],
        help_text=_(
            "Other institutional sites that may show this form in a frame or send it from their "
            "own pages, one per line, such as https://www.villaclara.es. Empty: none."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def notify_email_list(self) -> list[str]:
        return email_list_parse(self.notify_emails)

    @property
    def embed_origin_list(self) -> list[str]:
        return origin_list_parse(self.embed_origins)

    def fields_fingerprint(self) -> str:
        """A digest of the fields as a citizen meets them: a change means a new version."""
        rows = [
            [str(v) for v in row]
            for row in self.fields.order_by("order", "id").values_list(
                *[
                    f.attname
                    for f in FormField._meta.concrete_fields
                    if f.name not in {"id", "form"}
                ]
            )
        ]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()

    def clean(self) -> None:
        # SSRF: a URL that reaches the server's own network is refused when it is typed.
        errors = webhook_fields_errors(self.webhook_url, self.webhook_secret)
        if not self.webhook_url:
            errors = {}
        # News of citizens' submissions goes to staff accounts only, never outside. (An address
        # that is not one at all is already refused by the field's own validator.)
        addresses = [address for address in self.notify_email_list if email_is_valid(address)]
        if problem := staff_addresses_problem(addresses):
            errors["notify_emails"] = problem
        if errors:
            raise ValidationError(errors)


class FormField(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("short text")
        TEXTAREA = "textarea", _("long text")
        EMAIL = "email", _("e-mail")
        PHONE = "phone", _("phone")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        SELECT = "select", _("drop-down list")
        RADIO = "radio", _("one choice (radio buttons)")
        CHECKBOXES = "checkboxes", _("several choices (checkboxes)")
        TOPICS = "topics", _("topics of interest")
        POSTAL_CODE = "postal_code", _("postal code")
        FILE = "file", _("file upload")
        UTM = "utm", _("hidden campaign (UTM) fields")
        CONSENT = "consent", _("consent checkbox")

    class Target(models.TextChoices):
        CONTACT = "contact", _("contact field")
        PROPERTY = "property", _("custom property")
        TOPIC = "topic", _("topic subscription")
        SUBMISSION = "submission", _("submission only")

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    key = models.SlugField(
        _("key"),
        max_length=40,
        help_text=_("The field's name in the submission and the webhook; unique in the form."),
    )
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.TEXT)
    label = models.CharField(_("label"), max_length=200)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_(
            'One option per line, as "value|Label" (for lists, radio buttons, checkboxes).'
        ),
    )
    target = models.CharField(
        _("saved to"), max_length=16, choices=Target.choices, default=Target.SUBMISSION
    )
    target_key = models.CharField(
        _("target"),
        max_length=64,
        blank=True,
        help_text=_("Contact field name, custom property key or topic slug."),
    )
    max_length = models.PositiveIntegerField(
        _("maximum length"),
        null=True,
        blank=True,
        help_text=_("Empty: 200 characters for short text, 5,000 for long text."),
    )
    progressive = models.BooleanField(
        _("progressive"),
        default=False,
        help_text=_("Asked only to recognised contacts, instead of what we already know."),
    )
    consent_purpose = models.CharField(
        _("consent purpose"), max_length=16, choices=ConsentRecord.Purpose.choices, blank=True
    )
    consent_text = models.TextField(
        _("consent text"), blank=True, help_text=_("Exactly what the citizen agrees to.")
    )
    consent_version = models.CharField(
        _("consent text version"),
        max_length=20,
        blank=True,
        help_text=_("Change it whenever the consent text changes."),
    )

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="formfield_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.key}"

    # A field change moves its form's `updated_at`, which keys the per-process copy of the
    # form's fields (`conversion.forms.form_fields`). Queryset `update()`/`bulk_create()` skip
    # this: after one, save the form.
    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        Form.objects.filter(pk=self.form_id).update(updated_at=timezone.now())

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        Form.objects.filter(pk=self.form_id).update(updated_at=timezone.now())
        return result

    def choice_pairs(self) -> list[tuple[str, str]]:
        """(value, label) pairs from the `choices` text, in the active language."""
        pairs = []
        for line in (self.choices or "").splitlines():
            line = line.strip()
            if not line:
                continue
            value, _sep, label = line.partition("|")
            pairs.append((value.strip(), (label or value).strip()))
        return pairs

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        kinds_with_choices = {self.Kind.SELECT, self.Kind.RADIO, self.Kind.CHECKBOXES}
        if self.kind in kinds_with_choices and not self.choice_pairs():
            errors["choices"] = _("This type of field needs at least one choice.")
        if self.kind == self.Kind.CONSENT:
            if not self.consent_purpose:
                errors["consent_purpose"] = _("A consent checkbox needs a purpose.")
            if not self.consent_text:
                errors["consent_text"] = _(
                    "A consent checkbox needs the text the citizen agrees to."
                )
            if not self.consent_version:
                errors["consent_version"] = _("Give the consent text a version, e.g. 2025-01.")
        if self.target != self.Target.SUBMISSION and not self.target_key:
            errors["target_key"] = _("Say which contact field, property or topic it fills.")
        if self.target == self.Target.CONTACT and self.target_key not in CONTACT_TARGETS:
            errors["target_key"] = _("Not a contact field a form can fill.")
        if errors:
            raise ValidationError(errors)


# Contact fields a form may fill (email is the key that finds or creates the contact).
CONTACT_TARGETS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "postal_code",
    "birth_year",
    "language",
)


class Submission(models.Model):
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="submissions")
    form_version = models.PositiveIntegerField(_("form version"))
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    values = models.JSONField(_("values"), default=dict, blank=True)
    utm = models.JSONField(_("campaign (UTM)"), default=dict, blank=True)
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)
    page = models.CharField(_("page"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=8)
    visitor_key = models.CharField(_("visitor key"), max_length=64, blank=True)
    # The keyed hash of the address typed (contacts.validation.email_hash): finds a person's
    # submissions for erasure and access before any contact is linked (an unconfirmed opt-in).
    email_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    landing_page = models.ForeignKey(
        "LandingPage",
        verbose_name=_("landing page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    variant = models.ForeignKey(
        "LandingVariant",
        verbose_name=_("A/B variant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
        help_text=_("Empty: the landing page as it stands (the control)."),
    )
    idempotency_key = models.CharField(max_length=64, unique=True, editable=False)
    # Staged: the request stores the submission; the relay applies it (conversion.applying).
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    optin_confirmed_at = models.DateTimeField(_("opt-in confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)

    class Proposal(models.TextChoices):
        NONE = "", _("none")
        PENDING = "pending", _("waiting for staff")
        ACCEPTED = "accepted", _("accepted")
        DISMISSED = "dismissed", _("dismissed")

    # Values nobody confirmed for an existing contact are never written to it: staff may
    # accept them from the contact's page (conversion.proposals).
    proposal = models.CharField(
        _("proposed changes"), max_length=10, choices=Proposal.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk}"

    @property
    def typed_email(self) -> str:
        """The address the citizen typed (its form's first e-mail field); "" when none."""
        from conversion.applying import submission_email
        from conversion.forms import form_fields

        return submission_email(form_fields(self.form), self.values)


class SubmissionFile(models.Model):
    """An upload, kept in the private storage: never under MEDIA_ROOT, never served publicly."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    key = models.SlugField(_("field"), max_length=40)
    file = models.FileField(_("file"), upload_to="submissions/%Y/%m/", storage=private_storage)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)

    class Meta:
        verbose_name = _("submitted file")
        verbose_name_plural = _("submitted files")

    def __str__(self) -> str:
        return self.name


class SideEffect(models.Model):
    """The outbox: written in the submission's transaction, sent after it (at least once)."""

    class Kind(models.TextChoices):
        # What the submission means for the contact (conversion.applying), before any e-mail.
        APPLY = "apply", _("apply to the contact")
        OPTIN_EMAIL = "optin_email", _("opt-in e-mail")
        STAFF_NOTIFICATION = "staff_notification", _("staff notification")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        # The person asked to be erased before it was sent: it never will be.
        CANCELLED = "cancelled", _("cancelled")

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="side_effects"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # A relay's lease on the row while it sends (`effects_claim`); a relay that died leaves it
    # to expire, and the next relay takes the row again.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("side effect")
        verbose_name_plural = _("side effects")
        ordering = ["-next_attempt_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "kind"], name="sideeffect_uniq"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sideeffect_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.submission_id}"


# --- Landing pages, gated assets and calls to action -------------------------------------------

GATED_ASSET_MAX_BYTES = 20 * 1024 * 1024


def validate_gated_asset(file: File) -> None:
    """A PDF of at most 20 MB, checked by its first bytes rather than its name."""
    if file.size is not None and file.size > GATED_ASSET_MAX_BYTES:
        raise ValidationError(_("The file is too large (maximum 20 MB)."), code="asset_too_large")
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        head = file.read(5)
    finally:
        file.seek(position)
    if isinstance(head, str):
        head = head.encode()
    if head != b"%PDF-":
        raise ValidationError(_("Upload the document as a PDF."), code="asset_type")


class LandingPage(Publishable):
    """A page built for one conversion: a hero, a pitch, a form and maybe a gated document."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200)
    summary = models.TextField(_("summary"), max_length=500, blank=True)
    hero_image = models.ImageField(
        _("hero image"),
        upload_to="conversion/landing/%Y/%m/",
        blank=True,
        validators=[validate_image],
        help_text=_("JPEG, PNG or WebP, at most 5 MB."),
    )
    hero_image_alt = models.CharField(
        _("hero image alternative text"),
        max_length=250,
        blank=True,
        help_text=_("Describe the image for people who cannot see it. Required with an image."),
    )
    body = ProseEditorField(
        _("body"),
        config={"extensions": BODY_EXTENSIONS},
        sanitize=rich_text_clean,
        blank=True,
    )
    form = models.ForeignKey(
        Form,
        verbose_name=_("form"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="landing_pages",
    )
    submit_label = models.CharField(
        _("submit button text"),
        max_length=60,
        blank=True,
        help_text=_("Empty: the form's own button text."),
    )
    gated_asset = models.FileField(
        _("gated document"),
        upload_to="landing/%Y/%m/",
        storage=private_storage,
        blank=True,
        validators=[validate_gated_asset],
        help_text=_(
            "A PDF of at most 20 MB, sent as an expiring download link after the form is sent "
            "(or after the opt-in is confirmed). Never public."
        ),
    )
    gated_asset_title = models.CharField(_("document title"), max_length=200, blank=True)
    thanks_message = models.TextField(
        _("thank-you message"),
        blank=True,
        help_text=_("Shown after sending. Empty: the form's success message."),
    )
    redirect_path = models.CharField(
        _("redirect after sending"),
        max_length=200,
        blank=True,
        validators=[validate_internal_path],
        help_text=_("A path on this site, e.g. /es/gracias/. Empty: show the thank-you message."),
    )
    meta_title = models.CharField(_("meta title"), max_length=70, blank=True)
    meta_description = models.CharField(_("meta description"), max_length=160, blank=True)

    rich_fields = ("body",)

    class Meta:
        verbose_name = _("landing page")
        verbose_name_plural = _("landing pages")
        ordering = ["-published_at", "-id"]
        permissions = [("publish_landingpage", _("Can publish landing pages"))]
        constraints = slug_constraints(
            "landingpage", _("A landing page with this slug already exists in this language.")
        )

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.hero_image and not self.hero_image_alt:
            errors["hero_image_alt"] = _("Describe the hero image (alternative text).")
        if self.gated_asset and not self.form_id:
            errors["form"] = _("A gated document is delivered after a form: choose the form.")
        if self.gated_asset and not self.gated_asset_title:
            errors["gated_asset_title"] = _("Give the document a title citizens will see.")
        if self.gated_asset and self.redirect_path:
            errors["redirect_path"] = _(
                "The download link is shown on the thank-you page: leave the redirect empty."
            )
        if errors:
            raise ValidationError(errors)

    def publish_problems(self) -> list[str]:
        problems = []
        if self.form_id is None:
            problems.append(str(_("Choose the form citizens send on this page.")))
        elif self.form is not None and not self.form.is_public:
            problems.append(str(_("Publish the page's form first.")))
        return problems

    def get_absolute_url(self) -> str:
        return reverse("conversion:landing", kwargs={"slug": self.slug})


def landing_pages() -> models.QuerySet[LandingPage]:
    """Every landing page (typed: the stubs see the manager of the abstract Publishable)."""
    return cast("models.QuerySet[LandingPage]", LandingPage.objects.all())


class CallToAction(models.Model):
    """A reusable button or banner that leads to a landing page (or another page of the site).

    Placed with `{% call_to_action "name-or-id" %}` or by a paragraph `[[cta:name]]` in an
    article's text. Its link goes through `conversion:cta-click`, which counts the click.
    """

    class Style(models.TextChoices):
        BUTTON = "button", _("button")
        BANNER = "banner", _("banner")

    name = models.SlugField(
        _("name"),
        max_length=80,
        unique=True,
        help_text=_(
            "Only staff see it. Place it in an article with a paragraph holding exactly "
            "[[cta:name]]."
        ),
    )
    text = models.CharField(_("button text"), max_length=80)
    description = models.CharField(
        _("description"), max_length=300, blank=True, help_text=_("Shown in banners.")
    )
    style = models.CharField(_("style"), max_length=8, choices=Style.choices, default=Style.BUTTON)
    landing_page = models.ForeignKey(
        LandingPage,
        verbose_name=_("landing page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_to_action",
    )
    target_path = models.CharField(
        _("or a path on this site"),
        max_length=200,
        blank=True,
        validators=[validate_internal_path],
        help_text=_("Used when no landing page is chosen, e.g. /es/noticias/."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call to action")
        verbose_name_plural = _("calls to action")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.landing_page_id and not self.target_path:
            raise ValidationError(
                {"landing_page": _("Choose a landing page or give a path on this site.")}
            )

    def target_url(self) -> str | None:
        """Where a click leads, in the active language; None when nowhere live."""
        if self.landing_page_id is not None:
            page = self.landing_page
            language = get_language()
            # Only in a language the page is written in: a fallback slug would be a 404.
            if page is None or not page.is_live or not getattr(page, f"title_{language}", ""):
                return None
            slug = getattr(page, f"slug_{language}", "")
            return reverse("conversion:landing", kwargs={"slug": slug}) if slug else None
        if self.target_path and _INTERNAL_PATH_RE.match(self.target_path):
            return self.target_path
        return None


class ABTest(models.Model):
    """An A/B test of a landing page: its own content (the control) against one or more
    variants, each visitor kept on one of them by their hashed visitor key (no cookie)."""

    landing_page = models.ForeignKey(
        LandingPage,
        verbose_name=_("landing page"),
        on_delete=models.CASCADE,
        related_name="ab_tests",
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("Only staff see it."))
    control_weight = models.PositiveSmallIntegerField(
        _("share of the current page"),
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Relative share of visitors who see the page as it is (the control)."),
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    winner = models.ForeignKey(
        "LandingVariant",
        verbose_name=_("winner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty once ended: the control won."),
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("declared by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("A/B test")
        verbose_name_plural = _("A/B tests")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["landing_page"],
                condition=models.Q(ended_at__isnull=True),
                name="conversion_abtest_one_running_per_page",
                violation_error_message=_("This landing page already has a running A/B test."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class LandingVariant(models.Model):
    """A challenger in an A/B test: what it changes of the landing page (empty: unchanged)."""

    test = models.ForeignKey(
        ABTest, verbose_name=_("A/B test"), on_delete=models.CASCADE, related_name="variants"
    )
    name = models.CharField(_("name"), max_length=60, help_text=_("Only staff see it."))
    weight = models.PositiveSmallIntegerField(
        _("share of visitors"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Relative share of visitors who see this variant."),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), max_length=500, blank=True)
    body = ProseEditorField(
        _("body"),
        config={"extensions": BODY_EXTENSIONS},
        sanitize=rich_text_clean,
        blank=True,
    )
    submit_label = models.CharField(_("submit button text"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("A/B variant")
        verbose_name_plural = _("A/B variants")
        ordering = ["test", "id"]

    def __str__(self) -> str:
        return self.name
