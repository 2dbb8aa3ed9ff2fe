"""Automated workflows: enrolment, the step engine, activation and the test run.

How it runs. An enrollment is a row with the step it runs next and `next_run_at`. Beat's tick
(`workflows_run_due`, every 2 s) claims due enrollments of active workflows in batches with
`SELECT … FOR UPDATE SKIP LOCKED` and advances each until it waits, leaves or ends. A batch is
one transaction: the step runs (`StepRun`, `unique(enrollment, seq)`), what the steps did (a
delivery for the sending engine, a tag, a list membership, an outbox row for a webhook or a staff
e-mail) and the enrollments' new position commit together or not at all. A worker killed
mid-batch leaves nothing behind; the rows stay due and the next tick runs them, once.

Steps of one kind at one point of a batch run together: a batch of 500 enrollments at a "send
an e-mail" step costs one consent query and one INSERT, whatever its size.

Nothing outside the database happens in a batch. An e-mail is a `Delivery` the sending engine
sends (through the consent selector again, per chunk), on the step's own campaign; a webhook or
a staff e-mail is a `WorkflowAction` its relay sends (`campaigns.workflow_actions`).

Editing an active workflow (docs/architecture.md): each enrollment keeps its place by step row,
so changes apply to the steps it has not reached yet; a waiting enrollment keeps the wake time
computed when it arrived; a step someone is on cannot be deleted; the graph is checked again
before an edit is saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.gate import campaign_gate
from campaigns.models import (
    Campaign,
    Delivery,
    Enrollment,
    StepRun,
    Workflow,
    WorkflowAction,
    WorkflowStep,
)
from contacts.models import Contact, ContactProperty, Segment, Subscription, Tag, Touchpoint
from contacts.segment_rules import rules_validate
from contacts.segments import rules_q, static_members_add, static_members_remove
from contacts.selectors import contacts_emailable
from contacts.services import touchpoints_record_received
from inbound.audit import audit_record
from inbound.lib.errors import DomainError

logger = logging.getLogger(__name__)

BATCH = 500
TICK_BUDGET_SECONDS = 20.0
# Steps one enrollment may run in one go; more means a loop (activation refuses loops without
# a wait, so only an edit gone wrong gets here).
MAX_HOPS = 100
MADRID = ZoneInfo("Europe/Madrid")
Kind = WorkflowStep.Kind
Go = str  # "next" | "no" | "wait" | "completed" | "goal" | "failed"


class WorkflowInvalid(DomainError):
    status = 409

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems), code="invalid_workflow")
        self.problems = list(problems)


# --- The graph --------------------------------------------------------------------------------


def step_label(step: WorkflowStep) -> str:
    return step.name or f"{step.key} ({step.get_kind_display()})"


class Graph:
    """A workflow's steps in order, and where each one goes."""

    def __init__(self, workflow: Workflow, steps: Iterable[WorkflowStep]) -> None:
        self.workflow = workflow
        self.steps = sorted(steps, key=lambda s: (s.order, s.pk or 0))
        self.by_key = {s.key: s for s in self.steps}
        self.by_id = {s.pk: s for s in self.steps}
        self._following = {
            s.key: (self.steps[i + 1] if i + 1 < len(self.steps) else None)
            for i, s in enumerate(self.steps)
        }

    @property
    def first(self) -> WorkflowStep | None:
        return self.steps[0] if self.steps else None

    def next(self, step: WorkflowStep) -> WorkflowStep | None:
        if step.kind == Kind.END:
            return None
        if step.next_key:
            return self.by_key.get(step.next_key)
        return self._following[step.key]

    def no(self, step: WorkflowStep) -> WorkflowStep | None:
        return self.by_key.get(step.no_key) if step.no_key else None

    def edges(self, step: WorkflowStep) -> list[tuple[str, WorkflowStep | None]]:
        if step.kind == Kind.END:
            return []
        if step.kind == Kind.BRANCH:
            return [(_("yes"), self.next(step)), (_("no"), self.no(step))]
        if step.kind == Kind.GOAL:
            return [("", self.next(step))]
        return [("", self.next(step))]


def workflow_graph(workflow: Workflow) -> Graph:
    return Graph(
        workflow, workflow.steps.select_related("email__sender", "topic", "segment", "campaign")
    )


def workflow_successors(workflow: Workflow) -> dict[int, list[tuple[str, WorkflowStep | None]]]:
    """Each step's outgoing edges (label, target; None is the end), for the diagram."""
    graph = workflow_graph(workflow)
    return {step.pk: graph.edges(step) for step in graph.steps}


# --- Validation -------------------------------------------------------------------------------


def _rule_problems(rule: Any, what: str) -> list[str]:
    try:
        rules_validate(rule)
    except ValidationError as error:
        return [f"{what}: {message}" for message in error.messages]
    return []


def _date_field_problem(name: str, what: str) -> str | None:
    if name == "created_at":
        return None
    if not ContactProperty.objects.filter(key=name, type=ContactProperty.Type.DATE).exists():
        return _('%(what)s: "%(name)s" is neither "created_at" nor a date custom property.') % {
            "what": what,
            "name": name,
        }
    return None


def _trigger_problems(workflow: Workflow) -> list[str]:
    problems: list[str] = []
    trigger = Workflow.Trigger
    if workflow.trigger == trigger.TOUCHPOINT and not workflow.trigger_kind:
        problems.append(_("The trigger needs the kind of interaction."))
    if workflow.trigger == trigger.SEGMENT and workflow.trigger_segment_id is None:
        problems.append(_("The trigger needs the segment contacts enter."))
    if workflow.trigger == trigger.DATE:
        if not workflow.trigger_date_field:
            problems.append(_("The trigger needs the date of the contact it follows."))
        else:
            problem = _date_field_problem(workflow.trigger_date_field, _("The trigger"))
            if problem:
                problems.append(problem)
    from campaigns.workflow_triggers import conditions_problems

    problems += conditions_problems(workflow.trigger_conditions)
    problems += _rule_problems(workflow.conditions, _("Enrolment conditions"))
    problems += _rule_problems(workflow.goal, _("Goal"))
    if workflow.reenrol == Workflow.Reenrol.AFTER and not workflow.reenrol_days:
        problems.append(_("Re-enrolment after some days needs the number of days."))
    return problems


def _step_problems(step: WorkflowStep, graph: Graph) -> list[str]:
    label = step_label(step)
    problems: list[str] = []

    def need(ok: Any, message: str) -> None:
        if not ok:
            problems.append(_("Step «%(step)s»: %(problem)s") % {"step": label, "problem": message})

    for name in ("next_key", "no_key", "touchpoint_step_key"):
        key = getattr(step, name)
        need(
            not key or key in graph.by_key,
            _('it goes to "%(key)s", which is not a step of this workflow.') % {"key": key},
        )
    if step.kind == Kind.SEND_EMAIL:
        need(step.email_id, _("it has no e-mail to send."))
        need(
            step.purpose != WorkflowStep.Purpose.TOPIC or step.topic_id,
            _("an e-mail sent as a topic bulletin needs its topic."),
        )
        sender = step.email.sender if step.email is not None else None
        need(
            sender is None or sender.verified_at is not None,
            _("the e-mail's sender address is not verified."),
        )
    elif step.kind == Kind.WAIT:
        if step.wait_mode == WorkflowStep.WaitMode.DURATION:
            need(step.wait_duration > dt.timedelta(0), _("the wait has no duration."))
        elif step.wait_mode == WorkflowStep.WaitMode.WEEKDAY:
            need(step.wait_weekday is not None, _("the wait needs the day of the week."))
        else:
            need(step.date_field, _("the wait needs the date of the contact."))
            if step.date_field:
                problem = _date_field_problem(step.date_field, label)
                need(not problem, problem or "")
    elif step.kind in {Kind.BRANCH, Kind.GOAL}:
        if step.kind == Kind.BRANCH and step.branch_on == WorkflowStep.BranchOn.TOUCHPOINT:
            need(step.touchpoint_kind, _("the condition needs the kind of interaction."))
        else:
            need(step.rule, _("the condition needs a segment rule."))
            problems += _rule_problems(step.rule, _("Step «%(step)s»") % {"step": label})
    elif step.kind == Kind.UPDATE_CONTACT:
        need(
            step.tag or step.property_key or step.lifecycle,
            _("it needs a tag, a custom property or a lifecycle stage."),
        )
        if step.property_key:
            need(
                ContactProperty.objects.filter(key=step.property_key).exists(),
                _('"%(key)s" is not a custom property.') % {"key": step.property_key},
            )
    elif step.kind == Kind.SUBSCRIPTION:
        need(step.topic_id, _("it needs the topic."))
    elif step.kind == Kind.LIST:
        need(step.segment_id, _("it needs the static list."))
        need(
            step.segment is None or step.segment.kind == Segment.Kind.STATIC,
            _("only static lists have members added or removed."),
        )
    elif step.kind == Kind.NOTIFY_STAFF:
        from campaigns.workflow_triggers import staff_addresses_problem

        problem = staff_addresses_problem(step.notify_emails)
        need(not problem, problem or "")
    elif step.kind == Kind.WEBHOOK:
        from inbound.lib.webhooks import webhook_target_problem

        problem = webhook_target_problem(step.webhook_url) if step.webhook_url else None
        need(step.webhook_url, _("it needs the webhook URL."))
        need(step.webhook_secret, _("A webhook needs a secret to sign its calls."))
        need(not problem, problem or "")
    return problems


def _waits(step: WorkflowStep) -> bool:
    """Whether passing this step always takes time (a wait until a contact's date may not)."""
    return step.kind == Kind.WAIT and step.wait_mode != WorkflowStep.WaitMode.DATE


def _graph_problems(graph: Graph) -> list[str]:
    problems: list[str] = []
    # A loop without a wait: a cycle through steps none of which waits.
    state: dict[str, int] = {}
    reported: set[str] = set()

    def visit(step: WorkflowStep, path: list[WorkflowStep]) -> None:
        state[step.key] = 1
        for _label, target in graph.edges(step):
            if target is None or _waits(target):
                continue
            if state.get(target.key) == 1 and step.key not in reported:
                reported.add(step.key)
                problems.append(
                    _("Step «%(step)s» goes back to «%(target)s» without a wait in between.")
                    % {"step": step_label(step), "target": step_label(target)}
                )
            elif target.key not in state:
                visit(target, [*path, target])
        state[step.key] = 2

    for step in graph.steps:
        if step.key not in state and not _waits(step):
            visit(step, [step])
    # A step with no way out: no path from it reaches the end.
    exits: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in graph.steps:
            if step.key in exits:
                continue
            edges = graph.edges(step)
            if not edges or any(t is None or t.key in exits for _label, t in edges):
                exits.add(step.key)
                changed = True
    for step in graph.steps:
        if step.key not in exits and step.kind == Kind.BRANCH:
            problems.append(
                _("Step «%(step)s» has no way out: every path from it comes back forever.")
                % {"step": step_label(step)}
            )
    if not problems and any(step.key not in exits for step in graph.steps):
        stuck = next(step for step in graph.steps if step.key not in exits)
        problems.append(
            _("Step «%(step)s» has no way out: every path from it comes back forever.")
            % {"step": step_label(stuck)}
        )
    return problems


def workflow_problems(workflow: Workflow) -> list[str]:
    """What stops the workflow from being activated, each naming its step; empty: nothing."""
    graph = workflow_graph(workflow)
    problems = _trigger_problems(workflow)
    if graph.first is None:
        problems.append(_("The workflow has no steps."))
        return problems
    for step in graph.steps:
        problems += _step_problems(step, graph)
    return problems + _graph_problems(graph)


# --- Activation -------------------------------------------------------------------------------


def _step_campaign_sync(step: WorkflowStep, *, now: dt.datetime) -> Campaign:
    """The campaign a send step's deliveries belong to (its report is the step's report): made
    once, kept open (`sending` never finishes it), following the step's e-mail and consent."""
    fields = {
        "email_id": step.email_id,
        "purpose": step.purpose,
        "topic_id": step.topic_id if step.purpose == WorkflowStep.Purpose.TOPIC else None,
    }
    name = f"{step.workflow.name} · {step_label(step)}"[:160]
    if step.campaign_id is None:
        locked = WorkflowStep.objects.select_for_update().get(pk=step.pk)
        if locked.campaign_id is None:
            campaign = Campaign.objects.create(
                name=name, status=Campaign.Status.SENDING, started_at=now, **fields
            )
            WorkflowStep.objects.filter(pk=step.pk).update(campaign=campaign)
            step.campaign = campaign
            return campaign
        step.campaign_id = locked.campaign_id
    campaign = Campaign.objects.get(pk=step.campaign_id)
    if any(getattr(campaign, k) != v for k, v in fields.items()) or campaign.name != name:
        for k, v in fields.items():
            setattr(campaign, k, v)
        campaign.name = name
        campaign.save(update_fields=[*(k.removesuffix("_id") for k in fields), "name"])
    step.campaign = campaign
    return campaign


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
        campaign = _step_campaign_sync(step, now=now)
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
        from campaigns.workflow_triggers import segment_baseline

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


# --- The engine -------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # a StepRun.Status
    go: Go = "next"
    detail: str = ""
    wake_at: dt.datetime | None = None
    delivery_language: str | None = None  # a delivery to write for this run
    action: tuple[str, dict[str, Any]] | None = None  # an outbox row to write for this run


@dataclass
class _Batch:
    now: dt.datetime
    collapse_waits: bool = False
    clocks: dict[int, dt.datetime] = field(default_factory=dict)  # a test run's simulated time
    runs: list[StepRun] = field(default_factory=list)
    finished: dict[int, str] = field(default_factory=dict)

    def clock(self, enrollment: Enrollment) -> dt.datetime:
        return self.clocks.get(enrollment.pk, self.now)


def _contact_date(contact: Contact, name: str) -> dt.date | None:
    if name == "created_at":
        return timezone.localtime(contact.created_at, MADRID).date()
    value = (contact.properties or {}).get(name)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def wait_until(step: WorkflowStep, contact: Contact, now: dt.datetime) -> dt.datetime | None:
    """When a contact arriving at this wait step now moves on; None: a date it does not have."""
    at = step.wait_time or dt.time(0, 0)
    if step.wait_mode == WorkflowStep.WaitMode.DURATION:
        return now + step.wait_duration
    if step.wait_mode == WorkflowStep.WaitMode.WEEKDAY:
        local = timezone.localtime(now, MADRID)
        days = ((step.wait_weekday or 0) - local.weekday()) % 7
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=days), at, MADRID)
        if candidate <= now:
            candidate = dt.datetime.combine(local.date() + dt.timedelta(days=days or 7), at, MADRID)
        return candidate
    day = _contact_date(contact, step.date_field)
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=step.wait_days), at, MADRID)


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at, MADRID).strftime("%d/%m/%Y %H:%M")


def _run_wait(step: WorkflowStep, group: list[Enrollment], batch: _Batch) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for e in group:
        now = batch.clock(e)
        if e.waiting:  # woken: the wait is over
            outcomes[e.pk] = Outcome(
                StepRun.Status.PASSED, detail=_("Waited until %(at)s.") % {"at": _when(now)}
            )
            continue
        wake = wait_until(step, e.contact, now)
        if wake is None:
            outcomes[e.pk] = Outcome(
                StepRun.Status.SKIPPED,
                detail=_("The contact has no %(field)s: no wait.") % {"field": step.date_field},
            )
        elif wake <= now:
            outcomes[e.pk] = Outcome(
                StepRun.Status.PASSED,
                detail=_("The date (%(at)s) has passed: no wait.") % {"at": _when(wake)},
            )
        elif batch.collapse_waits:
            batch.clocks[e.pk] = wake
            outcomes[e.pk] = Outcome(
                StepRun.Status.PASSED,
                detail=_("Would wait until %(at)s.") % {"at": _when(wake)},
            )
        else:
            outcomes[e.pk] = Outcome(StepRun.Status.PENDING, go="wait", wake_at=wake)
    return outcomes


def _run_send_email(
    step: WorkflowStep, group: list[Enrollment], batch: _Batch
) -> dict[int, Outcome]:
    if step.email_id is None:
        return {e.pk: Outcome(StepRun.Status.FAILED, detail=_("No e-mail to send.")) for e in group}
    topic = step.topic if step.purpose == WorkflowStep.Purpose.TOPIC else None
    _step_campaign_sync(step, now=batch.now)
    allowed = dict(
        contacts_emailable(purpose=step.purpose, topic=topic)
        .filter(pk__in=[e.contact_id for e in group])
        .values_list("pk", "language")
    )
    outcomes: dict[int, Outcome] = {}
    for e in group:
        if e.contact_id in allowed:
            outcomes[e.pk] = Outcome(
                StepRun.Status.PASSED,
                detail=_("E-mail «%(email)s» queued.") % {"email": step.email},
                delivery_language=allowed[e.contact_id],
            )
        else:
            outcomes[e.pk] = Outcome(
                StepRun.Status.SKIPPED,
                detail=_("Not sent: no consent for this e-mail, unsubscribed or bounced."),
            )
    return outcomes


def _touched_since_enrolment(step: WorkflowStep, group: list[Enrollment], graph: Graph) -> set[int]:
    touchpoints = Touchpoint.objects.filter(
        contact=OuterRef("contact"),
        kind=step.touchpoint_kind,
        occurred_at__gte=OuterRef("enrolled_at"),
    )
    about = graph.by_key.get(step.touchpoint_step_key) if step.touchpoint_step_key else None
    if about is not None:
        touchpoints = touchpoints.filter(
            subject_type=ContentType.objects.get_for_model(Campaign),
            subject_id=str(about.campaign_id or 0),
        )
    return set(
        Enrollment.objects.filter(pk__in=[e.pk for e in group])
        .filter(Exists(touchpoints))
        .values_list("pk", flat=True)
    )


def _matching(rule: dict[str, Any], contact_ids: Iterable[int]) -> set[int]:
    return set(
        Contact.objects.filter(pk__in=list(contact_ids))
        .filter(rules_q(rule))
        .values_list("pk", flat=True)
    )


def _run_branch(step: WorkflowStep, group: list[Enrollment], graph: Graph) -> dict[int, Outcome]:
    if step.branch_on == WorkflowStep.BranchOn.TOUCHPOINT:
        yes = _touched_since_enrolment(step, group, graph)
        hits = {e.pk for e in group if e.pk in yes}
    else:
        matched = _matching(step.rule, (e.contact_id for e in group))
        hits = {e.pk for e in group if e.contact_id in matched}
    return {
        e.pk: Outcome(StepRun.Status.PASSED, go="next", detail=_("Condition met: yes."))
        if e.pk in hits
        else Outcome(StepRun.Status.PASSED, go="no", detail=_("Condition not met: no."))
        for e in group
    }


def _run_goal(step: WorkflowStep, group: list[Enrollment]) -> dict[int, Outcome]:
    matched = _matching(step.rule, (e.contact_id for e in group))
    return {
        e.pk: Outcome(StepRun.Status.PASSED, go="goal", detail=_("Goal reached: leaves."))
        if e.contact_id in matched
        else Outcome(StepRun.Status.PASSED, detail=_("Goal not reached yet: goes on."))
        for e in group
    }


def _run_update(step: WorkflowStep, group: list[Enrollment]) -> dict[int, Outcome]:
    ids = [e.contact_id for e in group]
    done: list[str] = []
    if step.tag:
        tag, _created = Tag.objects.get_or_create(name=step.tag.strip()[:64])
        through = Contact.tags.through
        if step.action == WorkflowStep.Action.ADD:
            through.objects.bulk_create(
                [through(contact_id=pk, tag_id=tag.pk) for pk in ids], ignore_conflicts=True
            )
            done.append(_("tag «%(tag)s» added") % {"tag": tag.name})
        else:
            through.objects.filter(contact_id__in=ids, tag=tag).delete()
            done.append(_("tag «%(tag)s» removed") % {"tag": tag.name})
    if step.property_key:
        contacts = list(Contact.objects.filter(pk__in=ids).only("pk", "properties"))
        for contact in contacts:
            contact.properties = {
                **(contact.properties or {}),
                step.property_key: step.property_value,
            }
        Contact.objects.bulk_update(contacts, ["properties"], batch_size=BATCH)
        done.append(
            _("%(key)s = «%(value)s»") % {"key": step.property_key, "value": step.property_value}
        )
    if step.lifecycle:
        Contact.objects.filter(pk__in=ids).update(lifecycle=step.lifecycle)
        done.append(_("stage: %(stage)s") % {"stage": step.get_lifecycle_display()})
    detail = "; ".join(done).capitalize() + "."
    return {e.pk: Outcome(StepRun.Status.PASSED, detail=detail) for e in group}


def _run_subscription(step: WorkflowStep, group: list[Enrollment]) -> dict[int, Outcome]:
    ids = [e.contact_id for e in group]
    status = (
        Subscription.Status.ACTIVE
        if step.action == WorkflowStep.Action.ADD
        else Subscription.Status.UNSUBSCRIBED
    )
    Subscription.objects.bulk_create(
        [Subscription(contact_id=pk, topic=step.topic, status=status) for pk in ids],
        ignore_conflicts=True,
    )
    Subscription.objects.filter(contact_id__in=ids, topic=step.topic).exclude(status=status).update(
        status=status, updated_at=timezone.now()
    )
    detail = (
        _("Subscribed to «%(topic)s».")
        if status == Subscription.Status.ACTIVE
        else _("Unsubscribed from «%(topic)s».")
    ) % {"topic": step.topic}
    return {e.pk: Outcome(StepRun.Status.PASSED, detail=detail) for e in group}


def _run_list(step: WorkflowStep, group: list[Enrollment]) -> dict[int, Outcome]:
    segment = step.segment
    if segment is None:
        return {e.pk: Outcome(StepRun.Status.FAILED, detail=_("No list.")) for e in group}
    contacts = [e.contact for e in group]
    try:
        if step.action == WorkflowStep.Action.ADD:
            static_members_add(segment=segment, contacts=contacts)
            detail = _("Added to «%(list)s».") % {"list": segment}
        else:
            static_members_remove(segment=segment, contacts=contacts)
            detail = _("Removed from «%(list)s».") % {"list": segment}
    except DomainError as error:
        return {e.pk: Outcome(StepRun.Status.FAILED, detail=str(error.message)) for e in group}
    return {e.pk: Outcome(StepRun.Status.PASSED, detail=detail) for e in group}


def _contact_payload(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "email": contact.email or "",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "language": contact.language,
    }


def _run_outbox(step: WorkflowStep, group: list[Enrollment], batch: _Batch) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for e in group:
        if step.kind == Kind.WEBHOOK:
            payload = {
                "event": "workflow.step",
                "workflow": {"id": step.workflow_id, "name": step.workflow.name},
                "step": {"id": step.pk, "key": step.key, "name": step_label(step)},
                "enrollment": e.pk,
                "contact": _contact_payload(e.contact),
                "context": e.context,
                "occurred_at": batch.clock(e).isoformat(),
            }
            action = (WorkflowAction.Kind.WEBHOOK, payload)
            detail = _("Webhook call queued.")
        else:
            addresses = [a.strip() for a in step.notify_emails.split(",") if a.strip()]
            payload = {
                "to": addresses,
                "subject": step.notify_subject or step.workflow.name,
                "contact": e.contact_id,
                "workflow": step.workflow_id,
                "step": step.pk,
                "context": e.context,
            }
            action = (WorkflowAction.Kind.STAFF_EMAIL, payload)
            detail = _("Staff notification queued for %(to)s.") % {"to": ", ".join(addresses)}
        outcomes[e.pk] = Outcome(StepRun.Status.PENDING, detail=detail, action=action)
    return outcomes


def _run_step(
    step: WorkflowStep, group: list[Enrollment], graph: Graph, batch: _Batch
) -> dict[int, Outcome]:
    if step.kind == Kind.WAIT:
        return _run_wait(step, group, batch)
    if step.kind == Kind.SEND_EMAIL:
        return _run_send_email(step, group, batch)
    if step.kind == Kind.BRANCH:
        return _run_branch(step, group, graph)
    if step.kind == Kind.GOAL:
        return _run_goal(step, group)
    if step.kind == Kind.UPDATE_CONTACT:
        return _run_update(step, group)
    if step.kind == Kind.SUBSCRIPTION:
        return _run_subscription(step, group)
    if step.kind == Kind.LIST:
        return _run_list(step, group)
    if step.kind in {Kind.WEBHOOK, Kind.NOTIFY_STAFF}:
        return _run_outbox(step, group, batch)
    return {
        e.pk: Outcome(StepRun.Status.PASSED, go="completed", detail=_("End of the workflow."))
        for e in group
    }


def _goal_reached(workflow: Workflow, group: list[Enrollment]) -> set[int]:
    if not workflow.goal:
        return set()
    matched = _matching(workflow.goal, (e.contact_id for e in group))
    return {e.pk for e in group if e.contact_id in matched}


def _record(e: Enrollment, step: WorkflowStep | None, outcome: Outcome, batch: _Batch) -> StepRun:
    e.seq += 1
    run = StepRun(
        enrollment=e,
        step=step,
        seq=e.seq,
        status=outcome.status,
        detail=outcome.detail[:300],
        due_at=e.next_run_at,
        ran_at=batch.clock(e) if batch.collapse_waits else timezone.now(),
    )
    batch.runs.append(run)
    return run


def _finish(e: Enrollment, status: str, batch: _Batch) -> None:
    # Off the steps: only who is on a step keeps it from being deleted (StepRun keeps history).
    e.step = None
    e.status = status
    e.finished_at = batch.clock(e)
    e.waiting = False
    batch.finished[e.pk] = status


def _advance(enrollments: list[Enrollment], graphs: dict[int, Graph], batch: _Batch) -> None:
    """Run the enrollments' steps until each one waits or leaves; writes nothing but the
    in-memory state and `batch.runs` (with what each run must write)."""
    effects: list[tuple[StepRun, WorkflowStep, Outcome]] = []
    by_workflow: dict[int, list[Enrollment]] = defaultdict(list)
    for e in enrollments:
        by_workflow[e.workflow_id].append(e)
    live: list[Enrollment] = []
    for group in by_workflow.values():
        reached = _goal_reached(graphs[group[0].workflow_id].workflow, group)
        for e in group:
            if e.contact.anonymised_at is not None:  # erased: out of every workflow
                _record(e, None, Outcome(StepRun.Status.SKIPPED, detail=_("Erased.")), batch)
                _finish(e, Enrollment.Status.EXITED, batch)
            elif e.pk in reached:
                _record(e, None, Outcome(StepRun.Status.PASSED, detail=_("Goal reached.")), batch)
                _finish(e, Enrollment.Status.GOAL, batch)
            else:
                live.append(e)
    for _hop in range(MAX_HOPS):
        if not live:
            break
        groups: dict[int, list[Enrollment]] = defaultdict(list)
        for e in live:
            if e.step_id is None or e.step_id not in graphs[e.workflow_id].by_id:
                _finish(e, Enrollment.Status.COMPLETED, batch)
            else:
                groups[e.step_id].append(e)
        live = []
        for step_id, group in groups.items():
            graph = graphs[group[0].workflow_id]
            step = graph.by_id[step_id]
            for e in group:
                e.step = step
            outcomes = _run_step(step, group, graph, batch)
            for e in group:
                outcome = outcomes[e.pk]
                if outcome.go == "wait":
                    e.waiting, e.next_run_at = True, outcome.wake_at or batch.now
                    continue
                run = _record(e, step, outcome, batch)
                if outcome.delivery_language is not None or outcome.action is not None:
                    effects.append((run, step, outcome))
                e.waiting = False
                e.next_run_at = batch.clock(e)
                if outcome.go in {"completed", "goal"}:
                    _finish(
                        e,
                        Enrollment.Status.GOAL
                        if outcome.go == "goal"
                        else Enrollment.Status.COMPLETED,
                        batch,
                    )
                    continue
                target = graph.no(step) if outcome.go == "no" else graph.next(step)
                if target is None:
                    e.step = step
                    _finish(e, Enrollment.Status.COMPLETED, batch)
                    continue
                e.step = target
                live.append(e)
    for e in live:  # still going after MAX_HOPS: a loop without a wait
        _record(
            e,
            e.step,
            Outcome(StepRun.Status.FAILED, detail=_("Too many steps without a wait: stopped.")),
            batch,
        )
        _finish(e, Enrollment.Status.FAILED, batch)
    _write(batch, effects)


def _write(batch: _Batch, effects: list[tuple[StepRun, WorkflowStep, Outcome]]) -> None:
    StepRun.objects.bulk_create(batch.runs, batch_size=1000)
    deliveries: list[Delivery] = []
    actions: list[WorkflowAction] = []
    for run, step, outcome in effects:
        if outcome.delivery_language is not None:
            deliveries.append(
                Delivery(
                    campaign_id=step.campaign_id or 0,
                    contact_id=run.enrollment.contact_id,
                    language=outcome.delivery_language,
                    next_attempt_at=batch.now,
                    step_run=run,
                )
            )
        if outcome.action is not None:
            kind, payload = outcome.action
            actions.append(WorkflowAction(run=run, kind=kind, payload=payload))
    Delivery.objects.bulk_create(deliveries, batch_size=1000)
    WorkflowAction.objects.bulk_create(actions, batch_size=1000)


def _graphs(workflow_ids: Iterable[int]) -> dict[int, Graph]:
    """The graphs of these workflows, in two queries; each step's `workflow` is the one object."""
    workflows = Workflow.objects.in_bulk(set(workflow_ids))
    steps: dict[int, list[WorkflowStep]] = defaultdict(list)
    for step in WorkflowStep.objects.filter(workflow_id__in=workflows).select_related(
        "email", "topic", "segment"
    ):
        step.workflow = workflows[step.workflow_id]
        steps[step.workflow_id].append(step)
    return {pk: Graph(workflow, steps[pk]) for pk, workflow in workflows.items()}


_POSITION = ("step", "next_run_at", "seq", "status", "finished_at", "waiting")


def _positions_write(enrollments: list[Enrollment]) -> None:
    """The enrollments' new positions in one statement. On PostgreSQL an UPDATE … FROM
    unnest(arrays): Django's `bulk_update` builds a CASE per row and field, which cost two
    thirds of a batch (bench/README.md, workflows)."""
    if connection.vendor != "postgresql":
        Enrollment.objects.bulk_update(enrollments, list(_POSITION), batch_size=BATCH)
        return
    table = connection.ops.quote_name(Enrollment._meta.db_table)
    fields = {f.name: str(f.column) for f in Enrollment._meta.concrete_fields}
    columns = [fields[name] for name in _POSITION]
    types = ["bigint", "timestamptz", "integer", "text", "timestamptz", "boolean"]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    arrays = ", ".join(f"%s::{t}[]" for t in ["bigint", *types])
    sql = (
        f"UPDATE {table} AS e SET {assignments} "  # noqa: S608 (our table and columns)
        f"FROM unnest({arrays}) AS v(id, {', '.join(columns)}) WHERE e.id = v.id"
    )
    rows = [
        (e.pk, e.step_id, e.next_run_at, e.seq, e.status, e.finished_at, e.waiting)
        for e in enrollments
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _save(enrollments: list[Enrollment], batch: _Batch) -> None:
    _positions_write(enrollments)
    left: dict[int, list[int]] = defaultdict(list)
    for e in enrollments:
        if e.pk in batch.finished:
            left[e.workflow_id].append(e.contact_id)
    for e in enrollments:
        if e.workflow_id in left:
            touchpoints_record_received(
                kind="workflow_finished",
                contact_ids=left.pop(e.workflow_id),
                subject=e.workflow,
                occurred_at=batch.now,
            )


def enrollments_claim(*, now: dt.datetime, limit: int = BATCH) -> list[int]:
    """Lock up to `limit` due enrollments of active workflows (the caller's transaction)."""
    return list(
        Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE,
            next_run_at__lte=now,
            workflow__status=Workflow.Status.ACTIVE,
            test=False,
        )
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )


def enrollments_run(*, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Claim and run one batch of due enrollments, in one transaction; how many steps ran."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = enrollments_claim(now=now, limit=limit)
        if not ids:
            return 0
        enrollments = list(
            Enrollment.objects.filter(pk__in=ids).select_related("contact").order_by("next_run_at")
        )
        graphs = _graphs(e.workflow_id for e in enrollments)
        for e in enrollments:
            e.workflow = graphs[e.workflow_id].workflow
        batch = _Batch(now=now)
        _advance(enrollments, graphs, batch)
        _save(enrollments, batch)
        return len(batch.runs)


@dataclass(frozen=True)
class RunResult:
    ran: int  # step runs written
    more: bool  # the budget ran out with work left


def workflows_run_due(*, budget: float = TICK_BUDGET_SECONDS) -> RunResult:
    """Beat's tick: run due enrollments in batches until none is due or the budget is spent."""
    deadline = time.monotonic() + budget
    ran = 0
    while time.monotonic() < deadline:
        steps = enrollments_run(now=timezone.now())
        if not steps:
            return RunResult(ran=ran, more=False)
        ran += steps
    return RunResult(ran=ran, more=True)


# --- Test mode --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestLine:
    at: dt.datetime
    step: WorkflowStep | None
    status: str
    detail: str


class _Rollback(Exception):
    def __init__(self, lines: list[TestLine]) -> None:
        self.lines = lines


def workflow_test_run(
    *, workflow: Workflow, contact: Contact, now: dt.datetime | None = None
) -> list[TestLine]:
    """Run `contact` through the workflow with waits collapsed, and undo it all: what would
    happen, step by step, with the simulated time of each. Nothing is sent or kept (every
    effect is a row of the rolled-back transaction; e-mails and webhooks only ever leave
    from committed rows)."""
    now = now or timezone.now()
    lines: list[TestLine] = []
    if workflow.conditions and not _matching(workflow.conditions, [contact.pk]):
        lines.append(
            TestLine(
                now,
                None,
                StepRun.Status.SKIPPED,
                _(
                    "This contact does not meet the enrolment conditions: they would not be "
                    "enrolled. The rest shows what would happen if they were."
                ),
            )
        )
    try:
        with transaction.atomic():
            graphs = _graphs([workflow.pk])
            graph = graphs[workflow.pk]
            if graph.first is None:
                raise _Rollback(lines)
            enrollment = Enrollment.objects.create(
                workflow=workflow,
                contact=contact,
                step=graph.first,
                next_run_at=now,
                trigger_key="",
                test=True,
                context={"test": True},
            )
            enrollment.workflow = graph.workflow
            batch = _Batch(now=now, collapse_waits=True, clocks={enrollment.pk: now})
            for _round in range(MAX_HOPS):
                _advance([enrollment], graphs, batch)
                if enrollment.status != Enrollment.Status.ACTIVE:
                    break
                batch = _Batch(now=now, collapse_waits=True, clocks=batch.clocks)
            runs = StepRun.objects.filter(enrollment=enrollment).select_related("step")
            lines += [TestLine(r.ran_at, r.step, r.status, r.detail) for r in runs.order_by("seq")]
            if enrollment.status != Enrollment.Status.ACTIVE:
                lines.append(
                    TestLine(
                        enrollment.finished_at or now,
                        None,
                        enrollment.status,
                        str(Enrollment.Status(enrollment.status).label),
                    )
                )
            raise _Rollback(lines)
    except _Rollback as done:
        return done.lines


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


__all__ = [
    "Graph",
    "RunResult",
    "StepCounts",
    "TestLine",
    "WorkflowInvalid",
    "enrol_contacts",
    "enrollment_remove",
    "enrollments_run",
    "step_counts",
    "wait_until",
    "workflow_activate",
    "workflow_graph",
    "workflow_pause",
    "workflow_problems",
    "workflow_successors",
    "workflow_test_run",
    "workflows_run_due",
]
