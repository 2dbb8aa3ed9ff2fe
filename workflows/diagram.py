"""A workflow drawn and told in words, for its staff page (`templates/campaigns/staff/
_workflow_diagram.html`).

The drawing is a server-rendered SVG, like `inbound.lib.charts`: no JavaScript and no inline
style (the Content-Security-Policy allows neither), geometry as SVG attributes computed here,
colours from `static/css/workflows.css`. Steps stand in one column in the order they run, each
box with its number, kind, label and how many contacts are at it; an edge to the next box is a
straight arrow down, a jump forward runs down a lane on the right, a jump back up a lane on the
left, and a branch's edges carry their yes/no label. The SVG is one image named by its title;
the same graph is told step by step in an ordered list next to it, which is what a screen
reader, a text browser or a printout reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflows.models import Workflow, WorkflowStep

BOX_WIDTH = 380
BOX_HEIGHT = 66
GAP = 46  # between boxes: room for an arrow and its label
TERMINAL_WIDTH, TERMINAL_HEIGHT = 140, 30
LANE = 18  # between side lanes
LANE_START = 26  # from a box's side to its first lane
MARGIN = 10
TEXT_MAX = 50  # characters of a box's line; the full text is the box's <title>

Successors = Mapping[int, Sequence[tuple[str, "WorkflowStep | None"]]]


class Counts(Protocol):
    """`workflows.services.StepCounts`: contacts at one step."""

    @property
    def waiting(self) -> int: ...
    @property
    def passed(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def failed(self) -> int: ...


@dataclass(frozen=True)
class DiagramBox:
    step: WorkflowStep | None  # None: the start or the end
    number: int  # 1-based position; 0 for the terminals
    kind: str  # the step's kind ("start"/"end" for the terminals): its CSS class
    title: str
    detail: str
    counts: str
    full_text: str  # every line in full, as the box's tooltip
    x: int
    y: int
    width: int
    height: int

    @property
    def centre_x(self) -> int:
        return self.x + self.width // 2

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def right(self) -> int:
        return self.x + self.width

    # Baselines of the box's lines.
    @property
    def title_y(self) -> int:
        return self.y + (20 if self.step is not None else self.height // 2 + 5)

    @property
    def detail_y(self) -> int:
        return self.y + 39

    @property
    def counts_y(self) -> int:
        return self.y + 57


@dataclass(frozen=True)
class DiagramEdge:
    path: str  # the SVG path's `d`
    label: str  # "" or the branch's yes/no
    label_x: int
    label_y: int
    label_anchor: str  # "start" or "end"
    kind: str  # "down", "forward" or "back": its CSS class


@dataclass(frozen=True)
class DiagramStep:
    """One item of the text alternative."""

    step: WorkflowStep
    number: int
    text: str  # "Si / si no: ¿abrió el correo? Sí → paso 4; No → fin"


@dataclass(frozen=True)
class WorkflowDiagram:
    id: str  # unique on the page: the SVG's title and description are referred to by it
    title: str
    description: str
    width: int
    height: int
    boxes: list[DiagramBox]
    edges: list[DiagramEdge]
    steps: list[DiagramStep]


def _short(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _duration(step: WorkflowStep) -> str:
    parts = []
    if step.wait_days:
        parts.append(ngettext("%(n)d day", "%(n)d days", step.wait_days) % {"n": step.wait_days})
    if step.wait_hours:
        parts.append(
            ngettext("%(n)d hour", "%(n)d hours", step.wait_hours) % {"n": step.wait_hours}
        )
    if step.wait_minutes:
        parts.append(
            ngettext("%(n)d minute", "%(n)d minutes", step.wait_minutes) % {"n": step.wait_minutes}
        )
    return " ".join(parts) or _("no time")


def _time(value: Any) -> str:
    return value.strftime("%H:%M") if value is not None else "—"


def step_summary(step: WorkflowStep) -> str:
    """What the step does, in a few words ("3 días", "«Bienvenida»", "email_open desde la
    inscripción"); "" when its kind says it all."""
    kind = WorkflowStep.Kind
    adding = step.action == WorkflowStep.Action.ADD
    if step.kind == kind.SEND_EMAIL:
        return f"«{step.email.name}»" if step.email is not None else _("no e-mail chosen")
    if step.kind == kind.WAIT:
        if step.wait_mode == WorkflowStep.WaitMode.WEEKDAY:
            days: dict[int | None, Any] = dict(WorkflowStep.WEEKDAYS)
            weekday = days.get(step.wait_weekday, "—")
            return _("until %(weekday)s at %(time)s") % {
                "weekday": weekday,
                "time": _time(step.wait_time),
            }
        if step.wait_mode == WorkflowStep.WaitMode.DATE:
            return _("until the date %(field)s") % {"field": step.date_field or "—"}
        return _duration(step)
    if step.kind in {kind.BRANCH, kind.GOAL}:
        if step.kind == kind.BRANCH and step.branch_on == WorkflowStep.BranchOn.TOUCHPOINT:
            text = _("%(interaction)s since enrolment?") % {
                "interaction": step.touchpoint_kind or "—"
            }
            if step.touchpoint_step_key:
                text += " " + _("(e-mail of step %(key)s)") % {"key": step.touchpoint_step_key}
            return text
        return _("matches the rule?") if step.kind == kind.BRANCH else _("leave if it matches")
    if step.kind == kind.UPDATE_CONTACT:
        parts = []
        if step.tag:
            template = _("add the tag «%(tag)s»") if adding else _("remove the tag «%(tag)s»")
            parts.append(template % {"tag": step.tag})
        if step.property_key:
            parts.append(f"{step.property_key} = {step.property_value}")
        if step.lifecycle:
            parts.append(_("stage: %(stage)s") % {"stage": step.get_lifecycle_display()})
        return ", ".join(parts)
    if step.kind == kind.SUBSCRIPTION:
        what = step.topic.name if step.topic is not None else step.get_purpose_display()
        template = _("subscribe to %(what)s") if adding else _("unsubscribe from %(what)s")
        return template % {"what": what}
    if step.kind == kind.LIST:
        name = step.segment.name if step.segment is not None else "—"
        template = _("add to %(list)s") if adding else _("remove from %(list)s")
        return template % {"list": name}
    if step.kind == kind.NOTIFY_STAFF:
        return _("to %(addresses)s") % {"addresses": step.notify_emails or "—"}
    if step.kind == kind.WEBHOOK:
        return urlsplit(step.webhook_url).netloc or "—"
    return ""


def step_caption(step: WorkflowStep) -> str:
    """The step's name, or what it does when it has none."""
    return step.name or step_summary(step)


def _kind(step: WorkflowStep) -> str:
    kind = str(step.get_kind_display())
    return kind[:1].upper() + kind[1:]


def numbered_step(step: WorkflowStep, number: int | None) -> str:
    """How tables and lists name a step: "3. If / else: ¿abrió el correo?"."""
    text = f"{number}. {_kind(step)}" if number else _kind(step)
    label = step_caption(step)
    return f"{text}: {label}" if label else text


@dataclass(frozen=True)
class _NoCounts:
    """A step nobody has reached yet."""

    waiting: int = 0
    passed: int = 0
    skipped: int = 0
    failed: int = 0


def counts_text(counts: Counts) -> str:
    return _(
        "waiting %(waiting)d · passed %(passed)d · skipped %(skipped)d · failed %(failed)d"
    ) % {
        "waiting": counts.waiting,
        "passed": counts.passed,
        "skipped": counts.skipped,
        "failed": counts.failed,
    }


def _subject_name(workflow: Workflow) -> str:
    """The trigger's subject by its name («Boletín de movilidad»), else its id."""
    if not workflow.trigger_subject_id or workflow.trigger_subject_type is None:
        return ""
    model = workflow.trigger_subject_type.model_class()
    found = (
        model._default_manager.filter(pk=workflow.trigger_subject_id).first()
        if model is not None and workflow.trigger_subject_id.isdigit()
        else None
    )
    return f"«{found}»" if found is not None else f"#{workflow.trigger_subject_id}"


def workflow_trigger_text(workflow: Workflow) -> str:
    """What enrols a contact, in one sentence."""
    trigger = Workflow.Trigger
    if workflow.trigger == trigger.TOUCHPOINT:
        text = _("When a contact has the interaction %(kind)s") % {
            "kind": workflow.trigger_kind or "—"
        }
        if workflow.trigger_subject_type is not None:
            text += " " + _("about %(type)s %(id)s") % {
                "type": workflow.trigger_subject_type.name,
                "id": _subject_name(workflow),
            }
        if workflow.trigger_conditions:
            conditions = ", ".join(
                f"{c.get('key', '?')} {c.get('op', '?')} {c.get('value', '')}"
                if isinstance(c, dict)
                else str(c)
                for c in workflow.trigger_conditions
            )
            text += " " + _("with %(conditions)s") % {"conditions": conditions}
        return text.strip() + "."
    if workflow.trigger == trigger.SEGMENT:
        name = workflow.trigger_segment.name if workflow.trigger_segment is not None else "—"
        return _("When a contact enters the segment «%(segment)s».") % {"segment": name}
    if workflow.trigger == trigger.DATE:
        offset = workflow.trigger_date_offset_days
        if offset < 0:
            when = ngettext("%(n)d day before", "%(n)d days before", -offset) % {"n": -offset}
        elif offset > 0:
            when = ngettext("%(n)d day after", "%(n)d days after", offset) % {"n": offset}
        else:
            when = _("on the day of")
        template = (
            _("Every year, %(when)s the date %(field)s, at %(time)s (Madrid time).")
            if workflow.trigger_date_mode == Workflow.DateMode.ANNIVERSARY
            else _("Once, %(when)s the date %(field)s, at %(time)s (Madrid time).")
        )
        return template % {
            "when": when,
            "field": workflow.trigger_date_field or "—",
            "time": _time(workflow.trigger_time),
        }
    return _("Only when staff enrol contacts, from this page.")


def _target_text(number: int | None) -> str:
    return _("step %(number)d") % {"number": number} if number is not None else _("the end")


@dataclass
class _Side:
    """Lanes on one side of the column: each a list of the vertical spans it carries."""

    lanes: list[list[tuple[int, int]]]

    def take(self, top: int, bottom: int) -> int:
        for index, spans in enumerate(self.lanes):
            if all(bottom < low or top > high for low, high in spans):
                spans.append((top, bottom))
                return index
        self.lanes.append([(top, bottom)])
        return len(self.lanes) - 1


def workflow_diagram(
    *,
    workflow: Workflow,
    steps: Sequence[WorkflowStep],
    successors: Successors,
    counts: Mapping[int, Counts] | None = None,
    id: str = "workflow-diagram",
) -> WorkflowDiagram:
    """The diagram of `steps` (in the order they run) and their `successors`
    (`workflows.graph.workflow_successors`), with each step's `counts` when given."""
    position = {step.pk: index for index, step in enumerate(steps)}
    end = len(steps)

    # Edges as (from index, to index, label), the end being index `end`; an edge to the next
    # box is drawn straight down, any other along a side lane.
    raw: list[tuple[int, int, str]] = []
    texts: list[DiagramStep] = []
    for index, step in enumerate(steps):
        phrases = []
        for label, target in successors.get(step.pk, ()):
            if target is not None and target.pk not in position:
                continue
            to = position[target.pk] if target is not None else end
            raw.append((index, to, label))
            number = to + 1 if to < end else None
            arrow = f"→ {_target_text(number)}"
            phrases.append(f"{label[:1].upper()}{label[1:]} {arrow}" if label else arrow)
        if step.kind == WorkflowStep.Kind.END:
            raw.append((index, end, ""))  # drawn into the end; told by its kind alone
        text = numbered_step(step, None)
        if phrases:
            text += " " + "; ".join(phrases)
        texts.append(DiagramStep(step=step, number=index + 1, text=text))

    # Vertical positions: the start, each step, the end.
    tops = [TERMINAL_HEIGHT + GAP + index * (BOX_HEIGHT + GAP) for index in range(end)]
    end_top = TERMINAL_HEIGHT + GAP + end * (BOX_HEIGHT + GAP)
    height = end_top + TERMINAL_HEIGHT

    # Ports: a box's side edges leave from its lower half and arrive at its upper part.
    side_out: dict[tuple[int, str], list[int]] = {}
    for number, (source, to, _label) in enumerate(raw):
        if to != source + 1:
            side = "right" if to > source else "left"
            side_out.setdefault((source, side), []).append(number)

    def out_y(number: int, source: int, side: str) -> int:
        siblings = side_out[(source, side)]
        room = BOX_HEIGHT // 2 - 8
        step = room // (len(siblings) + 1)
        return tops[source] + BOX_HEIGHT // 2 + step * (siblings.index(number) + 1)

    def in_y(to: int) -> int:
        return end_top + TERMINAL_HEIGHT // 2 if to == end else tops[to] + 14

    # Lanes: shortest spans innermost, each lane shared by spans that do not overlap.
    right, left = _Side([]), _Side([])
    lane_of: dict[int, int] = {}
    spans = []
    for number, (source, to, _label) in enumerate(raw):
        if to != source + 1:
            side = "right" if to > source else "left"
            y1, y2 = out_y(number, source, side), in_y(to)
            spans.append((abs(y2 - y1), number, side, min(y1, y2), max(y1, y2)))
    for _length, number, side, low, high in sorted(spans):
        lane_of[number] = (right if side == "right" else left).take(low, high)

    left_room = LANE_START + LANE * max(len(left.lanes) - 1, 0) + MARGIN if left.lanes else 0
    box_x = MARGIN + left_room
    right_room = LANE_START + LANE * max(len(right.lanes) - 1, 0) + MARGIN if right.lanes else 0
    width = box_x + BOX_WIDTH + right_room + MARGIN
    centre = box_x + BOX_WIDTH // 2
    terminal_x = centre - TERMINAL_WIDTH // 2

    boxes = [
        DiagramBox(
            step=None,
            number=0,
            kind="start",
            title=_("Enrolment"),
            detail="",
            counts="",
            full_text=workflow_trigger_text(workflow),
            x=terminal_x,
            y=0,
            width=TERMINAL_WIDTH,
            height=TERMINAL_HEIGHT,
        )
    ]
    for index, step in enumerate(steps):
        title = f"{index + 1}. {_kind(step)}"
        detail = step_caption(step)
        count = counts_text(counts.get(step.pk, _NoCounts())) if counts is not None else ""
        boxes.append(
            DiagramBox(
                step=step,
                number=index + 1,
                kind=step.kind,
                title=_short(title),
                detail=_short(detail),
                counts=count,
                full_text=" — ".join(part for part in (title, detail, count) if part),
                x=box_x,
                y=tops[index],
                width=BOX_WIDTH,
                height=BOX_HEIGHT,
            )
        )
    boxes.append(
        DiagramBox(
            step=None,
            number=0,
            kind="end",
            title=_("End"),
            detail="",
            counts="",
            full_text=_("End"),
            x=terminal_x,
            y=end_top,
            width=TERMINAL_WIDTH,
            height=TERMINAL_HEIGHT,
        )
    )

    edges = [
        DiagramEdge(
            path=f"M{centre},{TERMINAL_HEIGHT} V{TERMINAL_HEIGHT + GAP}",
            label="",
            label_x=0,
            label_y=0,
            label_anchor="start",
            kind="down",
        )
    ]
    straight: dict[int, list[str]] = {}
    for number, (source, to, label) in enumerate(raw):
        if to == source + 1:
            straight.setdefault(source, []).append(label)
            continue
        side = "right" if to > source else "left"
        y1, y2 = out_y(number, source, side), in_y(to)
        lane = lane_of[number]
        if side == "right":
            edge_x = box_x + BOX_WIDTH
            into_x = terminal_x + TERMINAL_WIDTH if to == end else edge_x
            lane_x = edge_x + LANE_START + lane * LANE
            label_x, anchor = edge_x + 4, "start"
        else:
            edge_x = box_x
            into_x = edge_x
            lane_x = edge_x - LANE_START - lane * LANE
            label_x, anchor = edge_x - 4, "end"
        edges.append(
            DiagramEdge(
                path=f"M{edge_x},{y1} H{lane_x} V{y2} H{into_x}",
                label=label,
                label_x=label_x,
                label_y=y1 - 4,
                label_anchor=anchor,
                kind="forward" if side == "right" else "back",
            )
        )
    for source, labels in straight.items():
        bottom = tops[source] + BOX_HEIGHT
        edges.append(
            DiagramEdge(
                path=f"M{centre},{bottom} V{bottom + GAP}",
                label=" / ".join(label for label in labels if label),
                label_x=centre + 8,
                label_y=bottom + GAP // 2 + 4,
                label_anchor="start",
                kind="down",
            )
        )
    if not steps:
        edges[0] = DiagramEdge(
            path=f"M{centre},{TERMINAL_HEIGHT} V{end_top}",
            label="",
            label_x=0,
            label_y=0,
            label_anchor="start",
            kind="down",
        )

    title = _("Diagram of the workflow %(name)s") % {"name": workflow.name}
    description = (
        "; ".join(f"{item.number}. {item.text}" for item in texts) if texts else _("No steps yet.")
    )
    return WorkflowDiagram(
        id=id,
        title=title,
        description=description,
        width=width,
        height=height,
        boxes=boxes,
        edges=edges,
        steps=texts,
    )
