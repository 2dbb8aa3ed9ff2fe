"""The form builder for staff: forms with their ordered fields, read-only submissions and the
outbox of side effects (with a "retry now" action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from contacts.validation import email_hash
from conversion import admin_abtests  # noqa: F401 -- registers the A/B tests
from conversion.admin_pages import ConversionRateColumn  # also registers pages and CTAs
from conversion.embedding import api_url, embed_snippet
from conversion.models import Form, FormField, SideEffect, Submission, SubmissionFile
from conversion.outbox import effect_retry_now
from conversion.services import form_version_bump
from inbound.audit import audit_record
from inbound.lib.admin import (
    AuditedAdminMixin,
    ReadOnlyAdmin,
    SecretFieldsAdminMixin,
    form_changes_audited,
)


class FormFieldInline(TranslationStackedInline):
    model = FormField
    extra = 0
    ordering = ("order", "id")
    fieldsets = (
        (None, {"fields": (("order", "key", "kind", "required"), "label", "help_text")}),
        (_("Where it is saved"), {"fields": (("target", "target_key"), "progressive")}),
        (_("Choices and limits"), {"fields": ("choices", "max_length")}),
        (
            _("Consent"),
            {"fields": (("consent_purpose", "consent_version"), "consent_text")},
        ),
    )


@admin.register(Form)
class FormAdmin(SecretFieldsAdminMixin, ConversionRateColumn, TranslationAdmin):
    list_display = (
        "name",
        "status",
        "version",
        "submission_count",
        "conversion",
        "updated_at",
        "preview_link",
    )
    list_filter = ("status",)
    search_fields = ("name", "slug", "title")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("version", "preview_link", "embed_code", "created_at", "updated_at")
    inlines = [FormFieldInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "version", "preview_link")}),
        (_("What the citizen sees"), {"fields": ("title", "intro", "submit_label")}),
        (_("After sending"), {"fields": ("success_message", "redirect_path", "double_opt_in")}),
        (_("Data protection"), {"fields": ("legal_basis", "purpose_notice")}),
        (
            _("Notifications and integration"),
            {"fields": ("notify_emails", "webhook_url", "webhook_secret")},
        ),
        (_("Progressive profiling"), {"fields": ("progressive_max_fields",)}),
        (_("Embedding on other sites"), {"fields": ("embed_origins", "embed_code")}),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Form]:
        return super().get_queryset(request).annotate(_submissions=models.Count("submissions"))

    @admin.display(description=_("submissions"), ordering="_submissions")
    def submission_count(self, obj: Form) -> int:
        return getattr(obj, "_submissions", 0)

    @admin.display(description=_("preview"))
    def preview_link(self, obj: Form) -> str:
        if obj.pk is None:
            return "—"
        try:
            url = reverse("conversion:preview", kwargs={"slug": obj.slug})
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Preview"))

    @admin.display(description=_("embed code"))
    def embed_code(self, obj: Form) -> str:
        """The iframe snippet and the JSON endpoint, for the staff of the listed sites."""
        if obj.pk is None or not obj.embed_origin_list:
            return str(_("List the sites that may embed this form and save: the code shows here."))
        return format_html(
            '<textarea readonly rows="3" cols="90" class="vLargeTextField" aria-label="{}">'
            "{}</textarea>"
            '<p class="help">{}</p><p class="help">{} <code>{}</code></p>',
            _("Embed code"),
            escape(embed_snippet(obj)),  # shown as code to copy, not as a frame
            _(
                "Paste it into a page of one of the sites listed above; anywhere else the frame "
                "stays empty. The form must be published."
            ),
            _("Or build your own form with the JSON API:"),
            api_url(obj),
        )

    def save_model(self, request: HttpRequest, obj: Form, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            action="conversion.form_changed" if change else "conversion.form_created",
            obj=obj,
            request=request,
            detail={"status": obj.status},
        )
        # Where the form sends citizens' data: reviewed apart, with the values before and after.
        changes = form_changes_audited(
            form, fields=("notify_emails", "webhook_url"), secrets=("webhook_secret",)
        )
        if changes:
            audit_record(
                action="conversion.form_outbound_changed",
                obj=obj,
                request=request,
                detail={"changes": changes},
            )

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        obj = form.instance
        before = obj.fields_fingerprint() if change else None
        super().save_related(request, form, formsets, change)
        if before is not None and form_version_bump(form=obj, before=before):
            self.message_user(
                request,
                _("The fields changed: the form is now version %(version)s.")
                % {"version": obj.version},
                messages.INFO,
            )


class SubmissionFileInline(admin.TabularInline):
    model = SubmissionFile
    extra = 0
    fields = ("key", "name", "size", "content_type")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SideEffectInline(admin.TabularInline):
    model = SideEffect
    extra = 0
    fields = ("kind", "status", "attempts", "next_attempt_at", "last_error", "done_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    list_display = (
        "__str__",
        "form",
        "form_version",
        "typed_email",
        "contact",
        "language",
        "created_at",
        "optin_confirmed_at",
    )
    list_filter = ("form", ("created_at", admin.DateFieldListFilter), "language")
    search_fields = ("contact__email", "form__name", "=id")
    date_hierarchy = "created_at"
    list_select_related = ("form", "contact")
    fields = (
        "form",
        "form_version",
        "contact",
        "language",
        "values",
        "utm",
        "page",
        "referrer",
        "created_at",
        "applied_at",
        "optin_confirmed_at",
        "proposal",
    )
    readonly_fields = fields
    inlines = [SubmissionFileInline, SideEffectInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Submission], search_term: str
    ) -> tuple[QuerySet[Submission], bool]:
        """An address finds its submissions before any contact is linked (unconfirmed ones), by
        the keyed hash stored with each submission: an index look-up, no scan of the values."""
        results, distinct = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if "@" in term and "." in term.rsplit("@", 1)[-1]:
            results |= queryset.filter(email_hash=email_hash(term))
        return results, distinct


@admin.register(SideEffect)
class SideEffectAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "done_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("=submission__id", "last_error")
    list_select_related = ("submission__form",)
    fields = (
        "submission",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "done_at",
    )
    readonly_fields = fields
    actions = ["retry_now"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("conversion.change_sideeffect")

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[SideEffect]) -> None:
        count = effect_retry_now(queryset)
        audit_record(
            action="conversion.side_effects_retried",
            request=request,
            detail={"count": count},
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d side effect will be sent again within a minute.",
                "%(count)d side effects will be sent again within a minute.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
