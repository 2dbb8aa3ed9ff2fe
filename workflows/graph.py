"""Workflows as graphs: where each step goes, and what stops a workflow from being activated
(each problem names its step). `workflows.services` activates; the admin checks an active
workflow's edits with `workflow_problems` before saving them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contacts.models import ContactProperty, Segment
from contacts.segment_rules import rules_validate
from inbound.lib.errors import DomainError
from workflows.conditions import conditions_problems, staff_addresses_problem
from workflows.models import Workflow, WorkflowStep

Kind = WorkflowStep.Kind


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
        problem = staff_addresses_problem(step.notify_emails)
        need(not problem, problem or "")
    elif step.kind == Kind.WEBHOOK:
        from inbound.lib.webhooks import webhook_target_problem

        problem = webhook_target_problem(step.webhook_url) if step.webhook_url else None
        need(step.webhook_url, _("it needs the webhook URL."))
        need(step.webhook_secret, _("A webhook needs a secret to sign its requests."))
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
