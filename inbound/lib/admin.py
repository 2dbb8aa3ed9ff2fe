"""Admin building blocks shared by the apps."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import IGNORED_PARAMS, PAGE_VAR, SEARCH_VAR
from django.http import HttpRequest, HttpResponse

from inbound.audit import audit_record

# What a changelist's query string may say besides its filters (sorting, the page, the popup…).
_NOT_FILTERS = {*IGNORED_PARAMS, PAGE_VAR}
AUDITED_TEXT_MAX = 200  # a pasted list must not fill the audit log


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are evidence or history (submissions, the audit log, what bulletins
    announced): staff read them, nobody adds, edits or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdminMixin:
    """Every staff look at personal data through the admin goes on the record.

    Put it first among the bases of a ModelAdmin whose rows hold citizens' data. Each list
    shown is audited as `<model>_list_viewed` (the ids on the page, the search typed, the
    filters), each change page and history page as `<model>_viewed` (the object, by id). Only
    pages that were actually shown count: a refused or failed request records nothing.
    """

    audit_view_action: str = ""  # default: "<model_name>_viewed" ("contact_viewed")
    audit_list_action: str = ""  # default: "<model_name>_list_viewed"

    def _audit_action(self, kind: str) -> str:
        explicit = self.audit_view_action if kind == "viewed" else self.audit_list_action
        model_name = self.model._meta.model_name  # type: ignore[attr-defined]
        return explicit or f"{model_name}_{kind}"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            audit_record(
                action=self._audit_action("list_viewed"),
                request=request,
                detail=changelist_audit_detail(request, changelist),
            )
        return response  # type: ignore[no-any-return]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        self._audit_shown(request, response, "original", page="change")
        return response  # type: ignore[no-any-return]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        self._audit_shown(request, response, "object", page="history")
        return response  # type: ignore[no-any-return]

    def _audit_shown(self, request: HttpRequest, response: Any, key: str, *, page: str) -> None:
        # A GET that rendered the page (a POST that saves is audited by what it changes).
        shown = (getattr(response, "context_data", None) or {}).get(key)
        if request.method == "GET" and response.status_code == 200 and shown is not None:
            audit_record(
                action=self._audit_action("viewed"),
                obj=shown,
                request=request,
                detail={"via": "admin", "page": page},
            )


def changelist_audit_detail(request: HttpRequest, changelist: Any) -> dict[str, Any]:
    """What a list showed: the ids on the page, the search typed and the filters chosen.

    The search is kept as typed (cut to 200 characters): who looked for whom is what an
    access review asks.
    """
    filters = {
        key: value[:AUDITED_TEXT_MAX]
        for key, value in request.GET.items()
        if key not in _NOT_FILTERS and key != SEARCH_VAR
    }
    return {
        "via": "admin",
        "ids": [obj.pk for obj in changelist.result_list],
        "search": request.GET.get(SEARCH_VAR, "")[:AUDITED_TEXT_MAX],
        "filters": filters,
        "page": changelist.page_num,
    }
