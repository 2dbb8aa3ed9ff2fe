"""Workflows' staff pages, under /<lang>/staff/workflows/: the list, and each workflow's page
with its status, trigger in words, problems, diagram and counts per step; activating, pausing
and resuming it; enrolling one contact or a segment by hand; and a test run that shows the path
a contact would take, without sending or changing anything.

Seeing needs `workflows.view_workflow`; acting needs `workflows.change_workflow`, and naming a
contact by e-mail (to enrol or test them) also `contacts.view_contact`; a test run shows what a
contact's data decides, so it is audited like a preview as a contact. Every change is a POST
with CSRF answered by a redirect and a message (post/redirect/get); the test run changes
nothing, so its answer is the page with the simulated path. No JavaScript is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Contact, Segment
from contacts.segments import segment_members
from contacts.selectors import contacts_with_email
from inbound.audit import audit_record
from inbound.lib.errors import DomainError
from inbound.lib.ratelimit import rate_limit_hit
from workflows.diagram import numbered_step, workflow_diagram, workflow_trigger_text
from workflows.engine import workflow_test_run
from workflows.graph import WorkflowInvalid, workflow_problems, workflow_successors
from workflows.models import Enrollment, StepRun, Workflow, WorkflowStep
from workflows.services import (
    enrol_contacts,
    enrollment_remove,
    step_counts,
    workflow_activate,
    workflow_pause,
)

VIEW = "workflows.view_workflow"
CHANGE = "workflows.change_workflow"
NAME_CONTACT = "contacts.view_contact"
TEST_RUNS_PER_HOUR = 20


def _workflow(request: HttpRequest, pk: int, permission: str) -> Workflow:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    workflow: Workflow = get_object_or_404(
        Workflow.objects.select_related("trigger_segment", "trigger_subject_type"), pk=pk
    )
    return workflow


def _page(workflow: Workflow) -> str:
    return reverse("workflows_staff:workflow", kwargs={"pk": workflow.pk})


def _contact_by_email(request: HttpRequest, value: str) -> QuerySet[Contact]:
    """The contact with this address, as a queryset; refused to staff who may not see contacts
    (the answer would tell them whether the address is one)."""
    if not request.user.has_perm(NAME_CONTACT):
        raise PermissionDenied
    contacts = contacts_with_email(value).filter(anonymised_at__isnull=True)
    if not contacts.exists():
        raise DomainError(_("No contact has the address %(email)s.") % {"email": value.strip()})
    return contacts


class EnrolForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("One contact, by e-mail"),
        required=False,
        max_length=254,
    )
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Or every member of a segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if bool(cleaned.get("email")) == bool(cleaned.get("segment")):
            raise forms.ValidationError(
                _("Write one contact's address or choose a segment, not both.")
            )
        return cleaned


class TestRunForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Contact's e-mail"),
        max_length=254,
        help_text=gettext_lazy(
            "The test follows the steps with this contact's data, with every wait skipped. "
            "Nothing is sent and nothing is changed."
        ),
    )


def _refuse_invalid(form: forms.Form) -> None:
    if not form.is_valid():
        raise DomainError(
            " ".join(str(message) for errors in form.errors.values() for message in errors)
        )


def _steps(workflow: Workflow) -> list[WorkflowStep]:
    return list(workflow.steps.select_related("email", "topic", "segment").order_by("order", "pk"))


# Labels stay lazy: translated when a page shows them, in its language.
OUTCOMES: dict[str, Any] = {**dict(Enrollment.Status.choices), **dict(StepRun.Status.choices)}


def _test_rows(lines: list[Any], numbers: dict[int, int]) -> list[dict[str, Any]]:
    """The test run's lines as the table shows them: the simulated time, and how long after
    enrolment it is."""
    start = lines[0].at if lines else None
    rows = []
    for index, line in enumerate(lines):
        step = line.step
        if step is not None:
            label = numbered_step(step, numbers.get(step.pk))
        elif index == 0 and line.status == StepRun.Status.SKIPPED:
            label = _("Enrolment")  # the contact does not meet the enrolment conditions
        else:
            label = _("End")
        rows.append(
            {
                "at": line.at,
                "elapsed": line.at - start if start is not None else None,
                "step": label,
                "outcome": OUTCOMES.get(line.status, line.status),
                "status": line.status,
                "detail": line.detail,
            }
        )
    return rows


def _render(
    request: HttpRequest,
    workflow: Workflow,
    *,
    test_form: TestRunForm | None = None,
    test_lines: list[Any] | None = None,
) -> HttpResponse:
    steps = _steps(workflow)
    counts = step_counts(workflow=workflow)
    numbers = {step.pk: index + 1 for index, step in enumerate(steps)}
    active = workflow.status == Workflow.Status.ACTIVE
    context = {
        **admin.site.each_context(request),
        "title": _("Workflow: %(name)s") % {"name": workflow.name},
        "workflow": workflow,
        "trigger_text": workflow_trigger_text(workflow),
        "problems": [] if active else workflow_problems(workflow),
        "diagram": workflow_diagram(
            workflow=workflow,
            steps=steps,
            successors=workflow_successors(workflow),
            counts=counts,
        ),
        "count_rows": [
            (numbered_step(step, numbers[step.pk]), counts.get(step.pk)) for step in steps
        ],
        "in_progress": workflow.enrollments.filter(
            status=Enrollment.Status.ACTIVE, test=False
        ).count(),
        "may_change": request.user.has_perm(CHANGE),
        "may_name_contact": request.user.has_perm(NAME_CONTACT),
        # Both forms have an "email" field: their own ids keep the page's ids unique.
        "enrol_form": EnrolForm(auto_id="id_enrol_%s"),
        "test_form": test_form or TestRunForm(auto_id="id_test_%s"),
        "test_rows": _test_rows(test_lines, numbers) if test_lines is not None else None,
    }
    return render(request, "workflows/workflow.html", context)


@never_cache
@login_required
@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    workflows = Workflow.objects.annotate(
        in_progress=Count(
            "enrollments",
            filter=Q(enrollments__status=Enrollment.Status.ACTIVE, enrollments__test=False),
        )
    ).order_by("name")
    context = {
        **admin.site.each_context(request),
        "title": _("Workflows"),
        "workflows": workflows,
    }
    return render(request, "workflows/workflow_list.html", context)


@never_cache
@login_required
@require_GET
def workflow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _workflow(request, pk, VIEW))


def _action(
    act: Callable[[HttpRequest, Workflow], str],
) -> Callable[..., HttpResponse]:
    """A POST that changes the workflow, then goes back to its page with a message."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        workflow = _workflow(request, pk, CHANGE)
        try:
            done = act(request, workflow)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(_page(workflow))

    view.__name__ = act.__name__
    view.__doc__ = act.__doc__
    return view


def _activate(request: HttpRequest, workflow: Workflow) -> None:
    """Activate, or refuse with how many problems there are and each of them."""
    try:
        workflow_activate(workflow=workflow, by=request.user, request=request)
    except WorkflowInvalid as error:
        raise DomainError(
            ngettext(
                "Not activated: %(count)d problem to fix first.",
                "Not activated: %(count)d problems to fix first.",
                len(error.problems),
            )
            % {"count": len(error.problems)}
            + " "
            + " ".join(error.problems)
        ) from error


@_action
def workflow_activate_view(request: HttpRequest, workflow: Workflow) -> str:
    _activate(request, workflow)
    return _("Active: contacts are enrolled when the trigger happens.")


@_action
def workflow_pause_view(request: HttpRequest, workflow: Workflow) -> str:
    workflow_pause(workflow=workflow, by=request.user, request=request)
    return _("Paused: nobody is enrolled and no step runs until you resume it.")


@_action
def workflow_resume_view(request: HttpRequest, workflow: Workflow) -> str:
    _activate(request, workflow)
    return _("Resumed: steps that came due while paused run now.")


@_action
def workflow_enrol_view(request: HttpRequest, workflow: Workflow) -> str:
    form = EnrolForm(request.POST)
    _refuse_invalid(form)
    segment: Segment | None = form.cleaned_data["segment"]
    if segment is not None:
        contacts = segment_members(segment=segment)
        detail: dict[str, Any] = {"segment": segment.pk}
    else:
        contacts = _contact_by_email(request, form.cleaned_data["email"])
        detail = {"contact": contacts.values_list("pk", flat=True).first()}
    enrolled = enrol_contacts(
        workflow=workflow,
        contacts=contacts,
        trigger_key=f"manual:{uuid4().hex}",
        by=request.user,
    )
    audit_record(
        action="campaigns.workflow_enrolled",
        obj=workflow,
        request=request,
        detail={**detail, "enrolled": enrolled},
    )
    if not enrolled:
        raise DomainError(
            _(
                "Nobody was enrolled: they do not meet the enrolment conditions, or the "
                "re-enrolment setting does not let them in again."
            )
        )
    return ngettext("%(count)d contact enrolled.", "%(count)d contacts enrolled.", enrolled) % {
        "count": enrolled
    }


@never_cache
@login_required
@require_POST
def workflow_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The path a contact would take now, waits collapsed; nothing is sent or changed."""
    workflow = _workflow(request, pk, CHANGE)
    form = TestRunForm(request.POST, auto_id="id_test_%s")
    try:
        if rate_limit_hit(
            request=request,
            scope="campaigns.workflow_test",
            limit=TEST_RUNS_PER_HOUR,
            period=3600,
        ):
            raise DomainError(_("Too many test runs: try again later."))
        _refuse_invalid(form)
        contact = _contact_by_email(request, form.cleaned_data["email"]).get()
        lines = workflow_test_run(workflow=workflow, contact=contact)
    except DomainError as error:
        messages.error(request, str(error.message))
        return HttpResponseRedirect(_page(workflow))
    audit_record(
        action="campaigns.workflow_tested",
        obj=contact,
        request=request,
        detail={"workflow": workflow.pk},
    )
    return _render(request, workflow, test_form=form, test_lines=lines)


@login_required
@require_POST
def enrollment_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a contact out of a workflow (from their page): no further step runs for them.
    Back to the contact's page, whatever the request says (no open redirect)."""
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("workflow"), pk=pk, test=False
    )
    if enrollment_remove(enrollment=enrollment, by=request.user, request=request):
        messages.success(
            request,
            _("Removed from «%(workflow)s»: no further step runs for this contact.")
            % {"workflow": enrollment.workflow.name},
        )
    else:
        messages.error(request, _("This contact was no longer in that workflow."))
    return HttpResponseRedirect(
        reverse("admin:contacts_contact_change", args=[enrollment.contact_id])
        + "#contact-workflows"
    )
