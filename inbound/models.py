"""Platform-wide data: the audit log, legal texts, worker heartbeats and visitor salts."""

from __future__ import annotations

from typing import Any

import nh3
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken


class AppendOnlyError(Exception):
    pass


class AuditEntry(models.Model):
    """One staff action on the platform. Append-only: rows are never changed or deleted.

    On PostgreSQL a trigger enforces it too (migration 0002), so not even raw SQL can rewrite
    history. The actor is kept by name as well, so the trail survives the user's deletion.
    """

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit entries cannot be deleted.")


# What staff may write in rich text; `content.richtext` extends it with images.
RICH_TEXT_TAGS = frozenset(
    {
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "a",
        "strong",
        "em",
        "blockquote",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "caption",
        "abbr",
    }
)
RICH_TEXT_ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "abbr": {"title"}, "th": {"scope"}}
RICH_TEXT_URL_SCHEMES = frozenset({"https", "http", "mailto", "tel"})


def sanitize_html(html: str) -> str:
    """Rich text as staff may write it, with scripts, handlers and styles removed."""
    return nh3.clean(
        html,
        tags=set(RICH_TEXT_TAGS),
        attributes={tag: set(names) for tag, names in RICH_TEXT_ATTRIBUTES.items()},
        url_schemes=set(RICH_TEXT_URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


class LegalPage(models.Model):
    """An institutional text staff edit in the admin (privacy policy, legal notice)."""

    class Kind(models.TextChoices):
        PRIVACY = "privacy", _("Privacy policy")
        LEGAL_NOTICE = "legal-notice", _("Legal notice")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), help_text=_("HTML; scripts and styles are removed on save."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("legal page")
        verbose_name_plural = _("legal pages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], name="legalpage_kind_language_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Sanitised on every write path, not only through the admin form.
        self.body = sanitize_html(self.body)
        super().save(*args, **kwargs)


class AccessibilityStatement(models.Model):
    """The accessibility statement required by Real Decreto 1112/2018 (art. 15 and annex II)."""

    class Compliance(models.TextChoices):
        FULL = "full", _("fully compliant")
        PARTIAL = "partial", _("partially compliant")
        NONE = "none", _("not compliant")

    class Method(models.TextChoices):
        SELF = "self", _("self-assessment by the institution")
        THIRD_PARTY = "third-party", _("assessment by a third party")

    compliance = models.CharField(
        _("compliance status"),
        max_length=16,
        choices=Compliance.choices,
        default=Compliance.PARTIAL,
    )
    standard = models.CharField(
        _("standard"), max_length=200, default="UNE-EN 301549:2022 (WCAG 2.1 AA)"
    )
    non_accessible_content = models.TextField(
        _("non-accessible content"),
        blank=True,
        help_text=_(
            "One item per line: what is not accessible and why (non-compliance, "
            "disproportionate burden, or outside the scope of the law)."
        ),
    )
    accessible_alternatives = models.TextField(_("accessible alternatives"), blank=True)
    prepared_on = models.DateField(_("statement prepared on"))
    method = models.CharField(
        _("preparation method"), max_length=16, choices=Method.choices, default=Method.SELF
    )
    reviewed_on = models.DateField(_("last reviewed on"))
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    responsible_unit = models.CharField(_("unit responsible for accessibility"), max_length=200)
    complaints_procedure = models.TextField(_("complaints procedure"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("accessibility statement")
        verbose_name_plural = _("accessibility statement")

    def __str__(self) -> str:
        return str(_("Accessibility statement"))

    @property
    def non_accessible_items(self) -> list[str]:
        return [line.strip() for line in self.non_accessible_content.splitlines() if line.strip()]


class WorkerHeartbeat(models.Model):
    """The last time a worker consumed a heartbeat task from a queue (shown by /readyz)."""

    name = models.CharField(max_length=100, unique=True)
    worker = models.CharField(max_length=200, blank=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%H:%M:%S}"


class VisitorSalt(models.Model):
    """The random salt of one day's visitor keys (`inbound.visitors`).

    Deleted two days after its day: from then on no one can recompute a visitor key of that
    day from an address, nor tell whether a visitor of that day came back.
    """

    day = models.DateField(_("day"), primary_key=True)
    salt = models.CharField(_("salt"), max_length=64)  # 32 random bytes, hex
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("visitor salt")
        verbose_name_plural = _("visitor salts")

    def __str__(self) -> str:
        return self.day.isoformat()  # never the salt itself


class ApiToken(AuthToken):
    """A staff member's API token (django-rest-knox's model), listed and revoked in the admin
    under the platform's name; members create their own (inbound.views_account)."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")


class TwoFactorDevice(TOTPDevice):
    """A staff member's authenticator app (django-otp's TOTP device), listed and removed in the
    admin (a lost phone); members enrol their own (inbound.views_account)."""

    class Meta:
        proxy = True
        verbose_name = _("two-step verification device")
        verbose_name_plural = _("two-step verification devices")
