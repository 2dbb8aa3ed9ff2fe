"""Admin of workflows: the editor (trigger, who may enter, goal, re-enrolment, and the steps
inline, each kind's fields in its own fieldset) and read-only lists of enrollments and step runs.

Whether a workflow runs is decided on its staff page (`workflows.views`), where
activation checks it first; here its status is shown, never edited. An active workflow stays
valid: its steps are checked with `workflow_problems` as they would be saved, and a save that
would break it is refused with the problems, the form keeping what was typed.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.db import DatabaseError, models, transaction
from django.db.models import QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.services import KIND_STAGES
from inbound.audit import audit_record
from inbound.lib.admin import (
    AuditedAdminMixin,
    ReadOnlyAdmin,
    SecretFieldsAdminMixin,
    form_changes_audited,
)
from workflows.graph import workflow_problems
from workflows.models import Enrollment, StepRun, Workflow, WorkflowStep

# The <datalist> of known interactions (admin/workflows/workflow/change_form.html, a template):
# one per page, so the step forms the admin adds in the browser share it.
INTERACTIONS_LIST = "workflow-interaction-kinds"
INTERACTION_KINDS = sorted(KIND_STAGES)


def _interaction_input() -> forms.TextInput:
    """A text box offering the known interactions, still taking any other kind."""
    return forms.TextInput(attrs={"list": INTERACTIONS_LIST, "autocomplete": "off"})


def _staff_page_link(workflow: Workflow) -> str:
    if workflow.pk is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("workflows_staff:workflow", kwargs={"pk": workflow.pk}),
        _("Open the workflow's page"),
    )


class StepFormSet(BaseInlineFormSet):
    """The steps of one workflow. On an active workflow, saves them and the workflow as
    submitted inside a savepoint, asks `workflow_problems`, and rolls back: a save that would
    leave it broken is refused before anything is written, with the problems above the steps
    and the form as it was typed."""

    def clean(self) -> None:
        super().clean()
        workflow = self.instance
        if any(self.errors) or workflow.pk is None or workflow.status != Workflow.Status.ACTIVE:
            return
        problems = self._problems_if_saved()
        if problems:
            keep_valid = _("An active workflow must stay valid; pause it to make larger changes.")
            raise forms.ValidationError([keep_valid, *problems])

    def _problems_if_saved(self) -> list[str]:
        # Copies are saved, so the forms' own instances stay as the real save expects them;
        # the block is a savepoint inside the admin's transaction, always rolled back.
        problems: list[str] = []
        try:
            with transaction.atomic():
                copy.copy(self.instance).save()
                for form in self.forms:
                    if self.can_delete and form.cleaned_data.get(DELETION_FIELD_NAME):
                        if form.instance.pk is not None:
                            WorkflowStep.objects.filter(pk=form.instance.pk).delete()
                    elif form.has_changed():
                        copy.copy(form.instance).save()
                problems = workflow_problems(Workflow.objects.get(pk=self.instance.pk))
                raise _Undo
        except _Undo:
            return problems
        except DatabaseError as error:  # e.g. two steps swapping keys: say so, not a 500
            return [_("The steps could not be saved: %(error)s") % {"error": error}]


class _Undo(Exception):
    """Rolls back the trial save of `StepFormSet`."""


class _Fields:
    """Interactions are typed in a text box that offers the known kinds."""

    interaction_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.interaction_fields:
            kwargs["widget"] = _interaction_input()
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]


class StepInline(SecretFieldsAdminMixin, _Fields, admin.StackedInline):
    model = WorkflowStep
    formset = StepFormSet
    interaction_fields = ("touchpoint_kind",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    ordering = ("order", "pk")
    fieldsets = (
        (None, {"fields": ("key", "order", "kind", "name", "next_key", "no_key")}),
        (
            gettext_lazy("Send an e-mail"),
            {"fields": ("email", "purpose", "topic"), "classes": ("collapse",)},
        ),
        (
            gettext_lazy("Wait"),
            {
                "fields": (
                    "wait_mode",
                    ("wait_days", "wait_hours", "wait_minutes"),
                    "wait_weekday",
                    "wait_time",
                    "date_field",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("If / else and goal"),
            {
                "fields": ("branch_on", "rule", "touchpoint_kind", "touchpoint_step_key"),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("Update the contact, subscription, static list"),
            {
                "fields": (
                    "action",
                    "tag",
                    "property_key",
                    "property_value",
                    "lifecycle",
                    "segment",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            gettext_lazy("Notify staff, webhook"),
            {
                "fields": ("notify_emails", "notify_subject", "webhook_url", "webhook_secret"),
                "classes": ("collapse",),
            },
        ),
    )


@admin.register(Workflow)
class WorkflowAdmin(_Fields, admin.ModelAdmin):
    interaction_fields = ("trigger_kind",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (StepInline,)
    change_form_template = "admin/workflows/workflow/change_form.html"
    list_display = ("name", "status", "trigger", "activated_at", "staff_page")
    list_filter = ("status", "trigger")
    search_fields = ("name",)
    # Activating, pausing and resuming happen on the workflow's page, which checks it first.
    readonly_fields = (
        "status",
        "staff_page",
        "activated_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "description", "status", "staff_page")}),
        (gettext_lazy("What enrols contacts"), {"fields": ("trigger",)}),
        (
            gettext_lazy("When it is an interaction"),
            {
                "fields": (
                    "trigger_kind",
                    "trigger_subject_type",
                    "trigger_subject_id",
                    "trigger_conditions",
                )
            },
        ),
        (gettext_lazy("When it is entering a segment"), {"fields": ("trigger_segment",)}),
        (
            gettext_lazy("When it is a date of the contact"),
            {
                "fields": (
                    "trigger_date_field",
                    "trigger_date_mode",
                    "trigger_date_offset_days",
                    "trigger_time",
                )
            },
        ),
        (gettext_lazy("Who may be enrolled"), {"fields": ("conditions",)}),
        (gettext_lazy("Goal"), {"fields": ("goal",)}),
        (gettext_lazy("Re-enrolment"), {"fields": ("reenrol", "reenrol_days")}),
        (
            gettext_lazy("Record"),
            {
                "fields": ("activated_at", "created_by", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )

    @admin.display(description=gettext_lazy("activation, tests and counts"))
    def staff_page(self, workflow: Workflow) -> str:
        return _staff_page_link(workflow)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["interaction_kinds"] = INTERACTION_KINDS
        context["interactions_list"] = INTERACTIONS_LIST
        return super().render_change_form(request, context, *args, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Workflow | None = None) -> bool:
        # Deleting takes every enrollment's history with it: a running workflow is paused first.
        if obj is not None and obj.status == Workflow.Status.ACTIVE:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Workflow, form: Any, change: bool) -> None:
        if not change:
            user: Any = request.user  # signed in: the admin lets no one else here
            obj.created_by = user
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: list[Any], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        steps_changed = sorted(
            {
                str(step.key)
                for formset in formsets
                for step in [*formset.new_objects, *(s for s, _f in formset.changed_objects)]
            }
            | {str(step.key) for formset in formsets for step in formset.deleted_objects}
        )
        audit_record(
            action="campaigns.workflow_changed" if change else "campaigns.workflow_created",
            obj=form.instance,
            request=request,
            detail={
                "status": form.instance.status,
                "fields": sorted(form.changed_data),
                "steps": steps_changed,
            },
        )

        # Where steps send citizens' data: reviewed apart, with the values before and after.
        for formset in formsets:
            for step_form in formset.forms:
                if step_form.instance.pk is None or step_form in formset.deleted_forms:
                    continue
                changes = form_changes_audited(
                    step_form,
                    fields=("notify_emails", "webhook_url"),
                    secrets=("webhook_secret",),
                )
                if changes:
                    audit_record(
                        action="campaigns.step_outbound_changed",
                        obj=form.instance,
                        request=request,
                        detail={"step": step_form.instance.key, "changes": changes},
                    )

    def delete_model(self, request: HttpRequest, obj: Workflow) -> None:
        audit_record(action="campaigns.workflow_deleted", obj=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            audit_record(action="campaigns.workflow_deleted", obj=workflow, request=request)
        super().delete_queryset(request, queryset)

    def response_add(
        self, request: HttpRequest, obj: Workflow, post_url_continue: Any = None
    ) -> HttpResponse:
        # A new workflow is a draft: its page shows what is missing and activates it.
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return HttpResponseRedirect(reverse("workflows_staff:workflow", kwargs={"pk": obj.pk}))
        return super().response_add(request, obj, post_url_continue)


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    fields = ("seq", "step", "status", "detail", "due_at", "ran_at")
    readonly_fields = fields
    ordering = ("seq",)
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepRun]:
        return super().get_queryset(request).select_related("step")


@admin.register(Enrollment)
class EnrollmentAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    """Who is going through which workflow, at which step; written only by the engine."""

    list_display = (
        "contact",
        "workflow",
        "status",
        "step",
        "next_run_at",
        "waiting",
        "enrolled_at",
        "finished_at",
    )
    list_filter = ("workflow", "status")
    list_select_related = ("contact", "workflow", "step")
    search_fields = ("=contact__email",)
    date_hierarchy = "enrolled_at"
    show_full_result_count = False
    inlines = (StepRunInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        return super().get_queryset(request).filter(test=False)


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    """Every step every enrollment ran: the history, as the engine wrote it."""

    list_display = ("enrollment", "seq", "step", "status", "detail", "due_at", "ran_at")
    list_filter = ("enrollment__workflow", "status")
    list_select_related = ("enrollment", "step")
    date_hierarchy = "ran_at"
    show_full_result_count = False
