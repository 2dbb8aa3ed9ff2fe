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
from inbound.models import AccessibilityStatement, ApiToken, AuditEntry, LegalPage, TwoFactorDevice


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

    @admin.display(description=_("staff member"), ordering="user__username")
    def owner(self, obj: Any) -> str:
        return str(obj.user.get_username())

    def _audit(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            action=self.audit_action, obj=obj.user, request=request, detail={"by": "admin"}
        )


@admin.register(ApiToken)
class ApiTokenAdmin(CredentialAdmin):
    audit_action = "api_token_revoked"
    list_display = ("owner", "beginning", "created_on", "expires_on")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("begins with"))
    def beginning(self, token: ApiToken) -> str:
        return f"{token.token_key[:8]}…"

    @admin.display(description=_("created"), ordering="created")
    def created_on(self, token: ApiToken) -> Any:
        return token.created

    @admin.display(description=_("expires"), ordering="expiry")
    def expires_on(self, token: ApiToken) -> Any:
        return token.expiry


@admin.register(TwoFactorDevice)
class TwoFactorDeviceAdmin(CredentialAdmin):
    audit_action = "two_factor_device_removed"
    list_display = ("owner", "is_confirmed", "added_on", "last_used_on")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("in use"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device: TwoFactorDevice) -> bool:
        return bool(device.confirmed)

    @admin.display(description=_("added"), ordering="created_at")
    def added_on(self, device: TwoFactorDevice) -> Any:
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used_on(self, device: TwoFactorDevice) -> Any:
        return device.last_used_at
