from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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
