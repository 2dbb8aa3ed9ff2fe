"""Automated workflows, the services staff and triggers call: activate and pause a workflow,
enrol contacts, take one out, count where everyone is. The graph and its checks are in
`workflows.graph`, the steps in `workflows.steps`, the engine and the test run
in `workflows.engine` (docs/architecture.md, "automated workflows")."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.gate import campaign_gate
from contacts.models import Contact
from contacts.segments import rules_q, segment_members
from contacts.services import touchpoints_record_received
from inbound.audit import audit_record
from inbound.lib.errors import DomainError
from workflows.graph import WorkflowInvalid, step_label, workflow_problems
from workflows.models import Enrollment, StepRun, Workflow, WorkflowSegmentMember, WorkflowStep
from workflows.steps import step_campaign_sync

Kind = WorkflowStep.Kind


def segment_baseline(*, workflow: Workflow) -> int:
    """Record the segment's current members as already in it: only who enters it from now on
    is enrolled."""
    if workflow.trigger_segment is None:
        return 0
    members = segment_members(segment=workflow.trigger_segment).values_list("pk", flat=True)
    rows = [WorkflowSegmentMember(workflow=workflow, contact_id=pk) for pk in members.iterator()]
    WorkflowSegmentMember.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def workflow_activate(*, workflow: Workflow, by: Any, request: Any = None) -> None:
    """Check the workflow and switch it on (from draft or paused). Its e-mail steps get their
    campaigns; a segment trigger starts from the segment's current members (only those who
    enter it from now on are enrolled)."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if locked.status == Workflow.Status.ACTIVE:
        raise DomainError(_("This workflow is already active."), code="active", status=409)
    problems = workflow_problems(locked)
    if problems:
        raise WorkflowInvalid(problems)
    now = timezone.now()
    for step in locked.steps.filter(kind=Kind.SEND_EMAIL).select_related("workflow"):
        campaign = step_campaign_sync(step, now=now)
        # The campaigns' quality gate, as each e-mail will be sent (merge tags, unsubscribe
        # link, alt texts, links that answer…); the audience is whoever the workflow enrols.
        gate = campaign_gate(campaign=campaign, audience=Counter({"es": 1}))
        problems += [
            _("Step «%(step)s»: %(problem)s") % {"step": step_label(step), "problem": c.message}
            for c in gate.errors
        ]
    if problems:
        raise WorkflowInvalid(problems)  # the transaction undoes the campaigns made above
    if locked.trigger == Workflow.Trigger.SEGMENT and locked.activated_at is None:
        segment_baseline(workflow=locked)
    resumed = locked.status == Workflow.Status.PAUSED
    locked.status = Workflow.Status.ACTIVE
    locked.activated_at = locked.activated_at or now
    locked.save(update_fields=["status", "activated_at", "updated_at"])
    workflow.status, workflow.activated_at = locked.status, locked.activated_at
    audit_record(
        action="workflow_resumed" if resumed else "workflow_activated",
        actor=by,
        obj=locked,
        request=request,
    )


@transaction.atomic
def workflow_pause(*, workflow: Workflow, by: Any, request: Any = None) -> None:
    """Stop running steps; enrollments keep their place, and what fell due meanwhile runs when
    the workflow is activated again. No one is enrolled while it is paused."""
    updated = Workflow.objects.filter(pk=workflow.pk, status=Workflow.Status.ACTIVE).update(
        status=Workflow.Status.PAUSED, updated_at=timezone.now()
    )
    if not updated:
        raise DomainError(
            _("Only an active workflow can be paused."), code="not_active", status=409
        )
    workflow.status = Workflow.Status.PAUSED
    audit_record(action="workflow_paused", actor=by, obj=workflow, request=request)


# --- Enrolment --------------------------------------------------------------------------------


def enrol_contacts(
    *,
    workflow: Workflow,
    contacts: QuerySet[Contact],
    trigger_key: str,
    context: dict[str, Any] | None = None,
    by: Any = None,
    now: dt.datetime | None = None,
) -> int:
    """Enrol those of `contacts` the workflow's conditions and re-enrolment policy allow; how
    many. `trigger_key` names what enrolled them, once: the same key never enrols the same
    contact twice (a touchpoint seen by the signal and by the sweep enrols once)."""
    if not trigger_key:
        raise ValueError("an enrolment needs its trigger key")
    if workflow.status != Workflow.Status.ACTIVE:
        raise DomainError(_("Only an active workflow enrols contacts."), code="not_active")
    first = workflow.steps.order_by("order", "pk").first()
    if first is None:
        raise DomainError(_("The workflow has no steps."), code="no_steps")
    now = now or timezone.now()
    candidates = contacts.filter(anonymised_at__isnull=True)
    if workflow.conditions:
        candidates = candidates.filter(rules_q(workflow.conditions))
    theirs = Enrollment.objects.filter(workflow=workflow, contact=OuterRef("pk"), test=False)
    candidates = candidates.exclude(Exists(theirs.filter(status=Enrollment.Status.ACTIVE)))
    if workflow.reenrol == Workflow.Reenrol.NEVER:
        candidates = candidates.exclude(Exists(theirs))
    elif workflow.reenrol == Workflow.Reenrol.AFTER:
        since = now - dt.timedelta(days=workflow.reenrol_days or 0)
        candidates = candidates.exclude(Exists(theirs.filter(enrolled_at__gt=since)))
    ids = list(candidates.order_by().values_list("pk", flat=True).distinct())
    if not ids:
        return 0
    user = by if getattr(by, "is_authenticated", False) else None
    with transaction.atomic():
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    workflow=workflow,
                    contact_id=pk,
                    step=first,
                    next_run_at=now,
                    trigger_key=trigger_key[:80],
                    context=context or {},
                    enrolled_at=now,
                    enrolled_by=user,
                )
                for pk in ids
            ],
            batch_size=1000,
            ignore_conflicts=True,  # enrolled meanwhile by another trigger: once is enough
        )
        enrolled = list(
            Enrollment.objects.filter(
                workflow=workflow, trigger_key=trigger_key[:80], enrolled_at=now, test=False
            ).values_list("contact_id", flat=True)
        )
        touchpoints_record_received(
            kind="workflow_enrolled", contact_ids=enrolled, subject=workflow, occurred_at=now
        )
    return len(enrolled)


# --- Counts -----------------------------------------------------------------------------------


@dataclass
class StepCounts:
    waiting: int = 0
    passed: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0


def step_counts(*, workflow: Workflow) -> dict[int, StepCounts]:
    """Per step: enrollments on it now, and its runs by outcome (two grouped queries)."""
    counts: dict[int, StepCounts] = defaultdict(StepCounts)
    for row in (
        Enrollment.objects.filter(workflow=workflow, status=Enrollment.Status.ACTIVE, test=False)
        .values("step")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if row["step"] is not None:
            counts[row["step"]].waiting = row["n"]
    for row in (
        StepRun.objects.filter(step__workflow=workflow)
        .values("step", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        setattr(counts[row["step"]], str(row["status"]), row["n"])
    return dict(counts)


def enrollment_remove(*, enrollment: Enrollment, by: Any, request: Any = None) -> bool:
    """Take a contact out of a workflow (staff); False when they were not in it any more."""
    updated = Enrollment.objects.filter(pk=enrollment.pk, status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.EXITED, finished_at=timezone.now(), waiting=False
    )
    if updated:
        audit_record(action="workflow_unenrolled", actor=by, obj=enrollment, request=request)
    return bool(updated)
