"""Admin building blocks shared by the apps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import IGNORED_PARAMS, PAGE_VAR, SEARCH_VAR
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

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


# --- Shared secrets (a webhook's signing key) ----------------------------------------------------


class SecretFieldsAdminMixin:
    """Secrets staff type once and never see again: a webhook's signing key.

    For a ModelAdmin or an inline. The field is a password box that is never filled in: left
    blank, the stored secret stays; cleared together with its URL (`secret_pairs`), it goes.
    Staff who may only view see whether a secret is set, never the secret (`<name>_masked`,
    a method each secret field needs here). Saving needs change permission, as any admin save.
    """

    secret_fields: tuple[str, ...] = ("webhook_secret",)
    # A secret that only means something with its URL: removing the URL removes the secret.
    secret_pairs: dict[str, str] = {"webhook_secret": "webhook_url"}

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name in self.secret_fields:
            return forms.CharField(
                label=db_field.verbose_name,
                max_length=db_field.max_length,
                required=False,
                strip=True,
                widget=forms.PasswordInput(
                    render_value=False, attrs={"autocomplete": "new-password"}
                ),
                help_text=_(
                    "%(help)s It is never shown again: leave it blank to keep the current one."
                )
                % {"help": db_field.help_text},
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # `change` by name: modeltranslation's get_form takes it only among **kwargs.
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        return self._keeping_secrets(form)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        formset.form = self._keeping_secrets(formset.form)
        return formset

    def _keeping_secrets(self, form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
        return type(
            form_class.__name__,
            (_KeepSecretsForm, form_class),
            {"secret_fields": self.secret_fields, "secret_pairs": self.secret_pairs},
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return fieldsets
        return [
            (name, {**options, "fields": _masked(options.get("fields", ()), self.secret_fields)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        return (*readonly, *(f"{name}_masked" for name in self.secret_fields))

    @admin.display(description=_("webhook secret"))
    def webhook_secret_masked(self, obj: Any) -> str:
        return str(_("Set (hidden)") if getattr(obj, "webhook_secret", "") else "—")


def _masked(fields: Any, secrets: tuple[str, ...]) -> Any:
    """The fieldset's field names with each secret replaced by its masked display."""
    if isinstance(fields, str):
        return f"{fields}_masked" if fields in secrets else fields
    return type(fields)(_masked(field, secrets) for field in fields)


class _KeepSecretsForm(forms.ModelForm):
    """Puts the stored secret back when its box was left blank (before the model's own checks,
    which want a webhook signed)."""

    secret_fields: tuple[str, ...] = ()
    secret_pairs: dict[str, str] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            pair = self.secret_pairs.get(name)
            if pair in self.fields and not cleaned.get(pair):
                cleaned[name] = ""
            elif not cleaned.get(name) and self.instance.pk is not None:
                cleaned[name] = getattr(self.instance, name)  # still the stored value here
        return cleaned


def form_changes_audited(
    form: forms.ModelForm, *, fields: Iterable[str], secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """What a saved admin form changed among `fields`, with the values before and after; a
    changed secret is named, never shown."""
    changes: dict[str, Any] = {}
    for name in fields:
        if name not in form.fields:
            continue
        before = form.initial.get(name) or ""
        after = form.cleaned_data.get(name) or ""
        if before != after:
            changes[name] = {"before": before, "after": after}
    for name in secrets:
        if name in form.fields and (form.initial.get(name) or "") != (
            form.cleaned_data.get(name) or ""
        ):
            changes[name] = "changed"
    return changes
