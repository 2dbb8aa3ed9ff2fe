"""The workflow engine: beat's tick, one batch per transaction, and the test run.

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
a staff e-mail is a `WorkflowAction` its relay sends (`workflows.actions`).

Editing an active workflow (docs/architecture.md): each enrollment keeps its place by step row,
so changes apply to the steps it has not reached yet; a waiting enrollment keeps the wake time
computed when it arrived; a step someone is on cannot be deleted; the graph is checked again
before an edit is saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Delivery
from contacts.models import Contact
from contacts.services import touchpoints_record_received
from workflows.graph import Graph
from workflows.models import Enrollment, StepRun, Workflow, WorkflowAction, WorkflowStep
from workflows.steps import (
    BATCH,
    Batch,
    Outcome,
    contacts_matching,
    goal_reached,
    run_step,
)

logger = logging.getLogger(__name__)

TICK_BUDGET_SECONDS = 20.0
# Steps one enrollment may run in one go; more means a loop (activation refuses loops without
# a wait, so only an edit gone wrong gets here).
MAX_HOPS = 100


def _record(e: Enrollment, step: WorkflowStep | None, outcome: Outcome, batch: Batch) -> StepRun:
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


def _finish(e: Enrollment, status: str, batch: Batch) -> None:
    # Off the steps: only who is on a step keeps it from being deleted (StepRun keeps history).
    e.step = None
    e.status = status
    e.finished_at = batch.clock(e)
    e.waiting = False
    batch.finished[e.pk] = status


def _advance(enrollments: list[Enrollment], graphs: dict[int, Graph], batch: Batch) -> None:
    """Run the enrollments' steps until each one waits or leaves; writes nothing but the
    in-memory state and `batch.runs` (with what each run must write)."""
    effects: list[tuple[StepRun, WorkflowStep, Outcome]] = []
    by_workflow: dict[int, list[Enrollment]] = defaultdict(list)
    for e in enrollments:
        by_workflow[e.workflow_id].append(e)
    live: list[Enrollment] = []
    for group in by_workflow.values():
        reached = goal_reached(graphs[group[0].workflow_id].workflow, group)
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
            outcomes = run_step(step, group, graph, batch)
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


def _write(batch: Batch, effects: list[tuple[StepRun, WorkflowStep, Outcome]]) -> None:
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


def _save(enrollments: list[Enrollment], batch: Batch) -> None:
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
        batch = Batch(now=now)
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
    if workflow.conditions and not contacts_matching(workflow.conditions, [contact.pk]):
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
            batch = Batch(now=now, collapse_waits=True, clocks={enrollment.pk: now})
            for _round in range(MAX_HOPS):
                _advance([enrollment], graphs, batch)
                if enrollment.status != Enrollment.Status.ACTIVE:
                    break
                batch = Batch(now=now, collapse_waits=True, clocks=batch.clocks)
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
