from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from inbound.audit import audit_record
from inbound.lib.admin import ReadOnlyAdmin
from inbound.lib.pagecache import public_pages_invalidate
from inbound.models import AccessibilityStatement, AuditEntry, LegalPage


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, so nobody adds, edits or deletes here."""

    list_display = ("at", "actor_name", "action", "object_type", "object_repr", "ip_hash")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id")
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False  # keeps the changelist fast on millions of rows


class PublicContentAdmin(admin.ModelAdmin):
    """Admin for models the public pages show: saving or deleting refreshes those pages."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        public_pages_invalidate()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        public_pages_invalidate()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        public_pages_invalidate()


@admin.register(LegalPage)
class LegalPageAdmin(PublicContentAdmin):
    list_display = ("kind", "language", "title", "updated_at")
    list_filter = ("kind", "language")


@admin.register(AccessibilityStatement)
class AccessibilityStatementAdmin(PublicContentAdmin):
    list_display = ("__str__", "compliance", "reviewed_on")
    fieldsets = (
        (
            _("Compliance"),
            {
                "fields": (
                    "compliance",
                    "standard",
                    "non_accessible_content",
                    "accessible_alternatives",
                )
            },
        ),
        (_("Preparation"), {"fields": ("prepared_on", "method", "reviewed_on")}),
        (
            _("Feedback and complaints"),
            {
                "fields": (
                    "responsible_unit",
                    "contact_email",
                    "contact_phone",
                    "complaints_procedure",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One statement per site.
        return not AccessibilityStatement.objects.exists() and super().has_add_permission(request)


# --- Staff credentials: API tokens and two-step devices ------------------------------------
# The libraries' own admins let an administrator mint a token or a device for someone else (and
# show its secret). Here they are read and revoked only, audited: a member creates their own on
# their account pages (inbound.views_account).
for model in (AuthToken, TOTPDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class CredentialAdmin(admin.ModelAdmin):
    """Listed and revoked (deleted), never added or edited here; each revocation audited."""

    audit_action = ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self._audit(request, obj)
        super().delete_queryset(request, queryset)

    def _audit(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            action=self.audit_action, obj=obj.user, request=request, detail={"by": "admin"}
        )


@admin.register(AuthToken)
class ApiTokenAdmin(CredentialAdmin):
    audit_action = "api_token_revoked"
    list_display = ("user", "beginning", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "beginning", "created", "expiry")
    readonly_fields = fields

    @admin.display(description=_("begins with"))
    def beginning(self, token: AuthToken) -> str:
        return f"{token.token_key[:8]}…"


@admin.register(TOTPDevice)
class TwoFactorDeviceAdmin(CredentialAdmin):
    audit_action = "two_factor_device_removed"
    list_display = ("user", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields
