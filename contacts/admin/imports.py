from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contacts.models import ImportJob
from inbound.lib.admin import AuditedAdminMixin


@admin.register(ImportJob)
class ImportJobAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Imports are read here; they are made through the import pages ("Add" leads there)."""

    audit_view_action = "import_viewed"
    audit_list_action = "import_list_viewed"

    list_display = ("original_name", "status", "progress", "created_count", "updated_count",
                    "error_count", "created_by", "created_at", "progress_page")
    list_filter = ("status",)
    search_fields = ("original_name",)
    list_select_related = ("created_by",)
    fields = ("original_name", "status", "legal_basis", "consent_text", "total_rows",
              "processed_rows", "created_count", "updated_count", "error_count", "created_by",
              "created_at", "finished_at")
    readonly_fields = fields

    @admin.display(description=_("progress"))
    def progress(self, obj: ImportJob) -> str:
        return f"{obj.processed_rows}/{obj.total_rows} ({obj.progress_percent}%)"

    @admin.display(description=_("report"))
    def progress_page(self, obj: ImportJob) -> str:
        url = reverse("contacts_imports:import-detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("contacts.add_contact")

    def add_view(self, request: HttpRequest, form_url: str = "",
                 extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("contacts_imports:import-upload"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
