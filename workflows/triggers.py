"""What enrols contacts in workflows: interactions (the `touchpoint_recorded` signal, with a
periodic sweep for what the signal missed), entering a segment and a contact's dates (periodic
passes), and staff. Every path ends in `workflows.services.enrol_contacts` with a trigger key
that makes it happen once."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.db.models import (
    CharField,
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from contacts.models import Contact, Touchpoint
from contacts.segments import rules_q, segment_members
from inbound.lib.errors import DomainError
from workflows.conditions import conditions_hold
from workflows.models import Enrollment, Workflow, WorkflowSegmentMember
from workflows.services import enrol_contacts
from workflows.steps import MADRID

logger = logging.getLogger(__name__)

# The sweep looks this far back: the signal's misses are seconds old, and a longer window would
# enrol, after an outage, people who acted long ago.
SWEEP_WINDOW = dt.timedelta(minutes=15)
SWEEP_LIMIT = 5000  # enrolments per workflow and pass; the next pass takes the rest
TRIGGERS_CACHE_SECONDS = 5.0


# --- Interactions: the signal and the sweep ---------------------------------------------------


@dataclass(frozen=True)
class TouchpointTrigger:
    """What an active touchpoint workflow listens to."""

    workflow_id: int
    kind: str
    subject_type_id: int | None
    subject_id: str
    conditions: Any

    @classmethod
    def of(cls, workflow: Workflow) -> TouchpointTrigger:
        return cls(
            workflow.pk,
            workflow.trigger_kind,
            workflow.trigger_subject_type_id,
            workflow.trigger_subject_id,
            workflow.trigger_conditions,
        )

    def matches(self, touchpoint: Touchpoint) -> bool:
        if touchpoint.kind != self.kind:
            return False
        if self.subject_type_id is not None and touchpoint.subject_type_id != self.subject_type_id:
            return False
        if self.subject_id and touchpoint.subject_id != self.subject_id:
            return False
        return conditions_hold(self.conditions, touchpoint.properties)


class _Listening:
    """The active touchpoint triggers by kind, read once per TRIGGERS_CACHE_SECONDS per process:
    a form submission that no workflow listens to pays no query. Saving a workflow forgets them
    in this process; other processes see a change within the TTL, and what they miss meanwhile
    the sweep enrols (a stale entry never enrols wrongly: matches are checked again on the
    workflow rows read fresh)."""

    def __init__(self) -> None:
        self.loaded: tuple[float, dict[str, list[TouchpointTrigger]]] | None = None

    def get(self) -> dict[str, list[TouchpointTrigger]]:
        loaded, now = self.loaded, time.monotonic()
        if loaded is not None and now - loaded[0] < TRIGGERS_CACHE_SECONDS:
            return loaded[1]
        by_kind: dict[str, list[TouchpointTrigger]] = defaultdict(list)
        for workflow in _touchpoint_workflows().only(
            "pk", "trigger_kind", "trigger_subject_type", "trigger_subject_id", "trigger_conditions"
        ):
            by_kind[workflow.trigger_kind].append(TouchpointTrigger.of(workflow))
        self.loaded = (now, dict(by_kind))
        return self.loaded[1]

    def forget(self) -> None:
        self.loaded = None


_listening = _Listening()


def touchpoint_triggers() -> dict[str, list[TouchpointTrigger]]:
    """The active touchpoint triggers by kind (cached per process for a few seconds)."""
    return _listening.get()


def touchpoint_triggers_forget(**kwargs: Any) -> None:
    """Receiver of Workflow's post_save/post_delete: the next touchpoint reads them again."""
    _listening.forget()


def _touchpoint_workflows() -> QuerySet[Workflow]:
    return Workflow.objects.filter(
        status=Workflow.Status.ACTIVE, trigger=Workflow.Trigger.TOUCHPOINT
    ).exclude(trigger_kind="")


def _touchpoint_context(touchpoint: Touchpoint) -> dict[str, Any]:
    subject_type = ""
    if touchpoint.subject_type_id is not None:
        content_type = ContentType.objects.get_for_id(touchpoint.subject_type_id)  # cached
        subject_type = f"{content_type.app_label}.{content_type.model}"
    return {
        "touchpoint": touchpoint.pk,
        "kind": touchpoint.kind,
        "subject_type": subject_type,
        "subject_id": touchpoint.subject_id,
    }


def _enrol(
    *,
    workflow: Workflow,
    contacts: QuerySet[Contact],
    trigger_key: str,
    context: dict[str, Any],
    now: dt.datetime | None = None,
) -> int:
    """enrol_contacts, for a trigger: a workflow paused (or emptied) since it was read enrols
    nobody, without an error."""
    try:
        return enrol_contacts(
            workflow=workflow, contacts=contacts, trigger_key=trigger_key, context=context, now=now
        )
    except DomainError:
        return 0


def _enrol_touchpoint(
    workflow: Workflow, touchpoint: Touchpoint, now: dt.datetime | None = None
) -> int:
    if touchpoint.contact_id is None:
        return 0
    return _enrol(
        workflow=workflow,
        contacts=Contact.objects.filter(pk=touchpoint.contact_id),
        trigger_key=f"tp:{touchpoint.pk}",
        context=_touchpoint_context(touchpoint),
        now=now,
    )


def touchpoint_enrol(sender: Any, touchpoint: Touchpoint, **kwargs: Any) -> None:
    """Receiver of `touchpoint_recorded` (after commit, in the request that recorded it): enrol
    the contact in the active workflows listening to this interaction. Never raises: a failure
    is logged and the sweep enrols them within the minute."""
    if touchpoint.contact_id is None:
        return
    try:
        listening = touchpoint_triggers().get(touchpoint.kind)
        ids = [t.workflow_id for t in listening or () if t.matches(touchpoint)]
        if not ids:
            return
        workflows = list(_touchpoint_workflows().filter(pk__in=ids))
    except Exception:
        logger.exception("workflow triggers of touchpoint %s: not read", touchpoint.pk)
        return
    for workflow in workflows:
        if not TouchpointTrigger.of(workflow).matches(touchpoint):  # changed meanwhile
            continue
        try:
            with transaction.atomic():
                _enrol_touchpoint(workflow, touchpoint)
        except Exception:
            logger.exception(
                "workflow %s: touchpoint %s not enrolled; the sweep will",
                workflow.pk,
                touchpoint.pk,
            )


def touchpoint_sweep(now: dt.datetime | None = None) -> int:
    """The catch-up of the signal (a crash between commit and signal, a process that had not
    seen the workflow yet): touchpoints of the last SWEEP_WINDOW that an active workflow listens
    to and that enrolled nobody in it yet. How many contacts it enrolled.

    Read through `tp_kind_at_idx` (kind, occurred_at). Touchpoints whose contact the workflow
    would refuse anyway (already in it, the re-enrolment policy, the conditions) are left out
    in the query, so a refused one is not tried again every minute.
    """
    now = now or timezone.now()
    enrolled = 0
    for workflow in _touchpoint_workflows():
        try:
            with transaction.atomic():
                enrolled += _sweep(workflow, now)
        except Exception:
            logger.exception("workflow %s: touchpoint sweep failed", workflow.pk)
    return enrolled


def _sweep(workflow: Workflow, now: dt.datetime) -> int:
    since = max(now - SWEEP_WINDOW, workflow.activated_at or now)
    touchpoints = Touchpoint.objects.filter(
        kind=workflow.trigger_kind,
        occurred_at__gte=since,
        occurred_at__lte=now,
        contact__isnull=False,
        contact__anonymised_at__isnull=True,
    )
    if workflow.trigger_subject_type_id is not None:
        touchpoints = touchpoints.filter(subject_type_id=workflow.trigger_subject_type_id)
    if workflow.trigger_subject_id:
        touchpoints = touchpoints.filter(subject_id=workflow.trigger_subject_id)
    theirs = Enrollment.objects.filter(workflow=workflow, contact=OuterRef("contact"), test=False)
    key = Concat(Value("tp:"), Cast(OuterRef("pk"), output_field=CharField()))
    touchpoints = touchpoints.exclude(Exists(theirs.filter(trigger_key=key))).exclude(
        Exists(theirs.filter(status=Enrollment.Status.ACTIVE))
    )
    if workflow.reenrol == Workflow.Reenrol.NEVER:
        touchpoints = touchpoints.exclude(Exists(theirs))
    elif workflow.reenrol == Workflow.Reenrol.AFTER:
        recent = now - dt.timedelta(days=workflow.reenrol_days or 0)
        touchpoints = touchpoints.exclude(Exists(theirs.filter(enrolled_at__gt=recent)))
    if workflow.conditions:
        allowed = Contact.objects.filter(rules_q(workflow.conditions), pk=OuterRef("contact"))
        touchpoints = touchpoints.filter(Exists(allowed))
    # The conditions on properties are read here, not in SQL: every touchpoint of the window is
    # looked at (no row limit that a run of non-matching ones could fill), and the enrolments
    # happen after the read.
    due: list[Touchpoint] = []
    for touchpoint in (
        touchpoints.order_by("occurred_at", "pk")
        .only("pk", "kind", "contact", "subject_type", "subject_id", "properties")
        .iterator(chunk_size=2000)
    ):
        if conditions_hold(workflow.trigger_conditions, touchpoint.properties):
            due.append(touchpoint)
            if len(due) >= SWEEP_LIMIT:
                break
    return sum(_enrol_touchpoint(workflow, touchpoint, now) for touchpoint in due)


# --- Entering a segment -----------------------------------------------------------------------


def segment_entries(now: dt.datetime | None = None) -> int:
    """For each active segment workflow: enrol who entered its segment since the last pass,
    and forget who left it (so entering again enrols again, as the re-enrolment policy allows).
    Set-based: one DELETE, one INSERT…SELECT and one enrolment per workflow, whatever the
    segment's size. How many contacts it enrolled."""
    now = now or timezone.now()
    enrolled = 0
    workflows = Workflow.objects.filter(
        status=Workflow.Status.ACTIVE,
        trigger=Workflow.Trigger.SEGMENT,
        trigger_segment__isnull=False,
    ).values_list("pk", flat=True)
    for pk in workflows:
        try:
            enrolled += _segment_pass(pk, now)
        except Exception:
            logger.exception("workflow %s: segment pass failed", pk)
    return enrolled


@transaction.atomic
def _segment_pass(pk: int, now: dt.datetime) -> int:
    # The row lock keeps two passes (and activation's baseline) of one workflow apart, so the
    # rows above `floor` are this pass's own.
    workflow = (
        Workflow.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, status=Workflow.Status.ACTIVE)
        .first()
    )
    if workflow is None or workflow.trigger_segment is None:
        return 0
    segment = workflow.trigger_segment
    members = segment_members(segment=segment).order_by()
    rows = WorkflowSegmentMember.objects.filter(workflow=workflow)
    rows.exclude(Exists(members.filter(pk=OuterRef("contact_id")))).delete()
    floor = WorkflowSegmentMember.objects.aggregate(top=Max("pk"))["top"] or 0
    entrants = (
        members.exclude(Exists(rows.filter(contact=OuterRef("pk")))).values_list("pk").distinct()
    )
    if not _members_insert(workflow, entrants):
        return 0
    entered = WorkflowSegmentMember.objects.filter(
        workflow=workflow, contact=OuterRef("pk"), pk__gt=floor
    )
    return _enrol(
        workflow=workflow,
        contacts=Contact.objects.filter(Exists(entered)),
        trigger_key=f"seg:{workflow.pk}:{int(now.timestamp())}",
        context={"segment": segment.pk},
        now=now,
    )


def _members_insert(workflow: Workflow, contact_ids: QuerySet[Any]) -> int:
    """INSERT INTO … SELECT: the contacts of the query become members, inside the database."""
    sql, params = contact_ids.query.get_compiler(using=contact_ids.db).as_sql()
    connection = connections[contact_ids.db]
    quote = connection.ops.quote_name
    meta = WorkflowSegmentMember._meta
    table = quote(meta.db_table)
    workflow_column = quote(meta.get_field("workflow").column)
    contact_column = quote(meta.get_field("contact").column)
    # The workflow id is our own integer, so it is safe to inline.
    statement = (
        f"INSERT INTO {table} ({workflow_column}, {contact_column}) "  # noqa: S608
        f"SELECT {int(workflow.pk)}, entrants.* FROM ({sql}) AS entrants"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return max(cursor.rowcount, 0)


# --- Dates of the contact ---------------------------------------------------------------------


def date_triggers(now: dt.datetime | None = None) -> int:
    """For each active date workflow whose Madrid time of day has come: enrol the contacts whose
    date plus the offset is today (once), or falls on today's day and month (each year). The
    trigger key names the day, so the pass may run every minute and enrols once a day. How many
    contacts it enrolled.

    Each year: a date of 29 February is celebrated on 28 February in other years; a date in
    this year or later has no anniversary yet (registering today is not an anniversary). A day
    on which no pass ran after the time of day (beat down all day) is not caught up.
    """
    now = now or timezone.now()
    local = timezone.localtime(now, MADRID)
    enrolled = 0
    workflows = Workflow.objects.filter(
        status=Workflow.Status.ACTIVE, trigger=Workflow.Trigger.DATE
    ).exclude(trigger_date_field="")
    for workflow in workflows:
        if local.time() < workflow.trigger_time:
            continue
        try:
            with transaction.atomic():
                locked = (
                    Workflow.objects.select_for_update()
                    .filter(pk=workflow.pk, status=Workflow.Status.ACTIVE)
                    .first()
                )
                if locked is None:
                    continue
                target = local.date() - dt.timedelta(days=locked.trigger_date_offset_days)
                enrolled += _enrol(
                    workflow=locked,
                    contacts=contacts_dated(
                        field=locked.trigger_date_field,
                        day=target,
                        each_year=locked.trigger_date_mode == Workflow.DateMode.ANNIVERSARY,
                    ),
                    trigger_key=f"date:{local.date().isoformat()}",
                    context={"date_field": locked.trigger_date_field, "date": target.isoformat()},
                    now=now,
                )
        except Exception:
            logger.exception("workflow %s: date pass failed", workflow.pk)
    return enrolled


def _month_days(day: dt.date) -> list[tuple[int, int]]:
    """The (month, day) pairs celebrated on `day`: 28 February also celebrates the 29th when
    the year has none."""
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        return [(2, 28), (2, 29)]
    return [(day.month, day.day)]


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, MADRID)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, MADRID)


def contacts_dated(*, field: str, day: dt.date, each_year: bool) -> QuerySet[Contact]:
    """Contacts whose date `field` ("created_at", in Madrid time, or a date custom property
    stored as YYYY-MM-DD) is `day`, or (`each_year`) an earlier year's same day and month."""
    contacts = Contact.objects.filter(anonymised_at__isnull=True)
    if field == "created_at":
        if not each_year:
            start, end = _day_range(day)
            return contacts.filter(created_at__gte=start, created_at__lt=end)
        # One range per past year on the indexed column, rather than a month/day of every row.
        first = contacts.aggregate(first=Min("created_at"))["first"]
        if first is None:
            return contacts.none()
        days = Q(pk__in=[])
        for year in range(timezone.localtime(first, MADRID).year, day.year):
            for month, number in _month_days(day):
                try:
                    start, end = _day_range(dt.date(year, month, number))
                except ValueError:  # 29 February of a common year
                    continue
                days |= Q(created_at__gte=start, created_at__lt=end)
        return contacts.filter(days)
    # As text: the lookups below are SQL text ones, not JSON ones.
    contacts = contacts.annotate(
        trigger_date=Cast(KeyTextTransform(field, "properties"), output_field=TextField())
    )
    if not each_year:
        return contacts.filter(trigger_date=day.isoformat())
    pattern = "|".join(f"{month:02d}-{number:02d}" for month, number in _month_days(day))
    return contacts.filter(
        trigger_date__regex=rf"^[0-9]{{4}}-({pattern})$", trigger_date__lt=f"{day.year:04d}-"
    )


# --- All of them ------------------------------------------------------------------------------


def workflows_triggers(now: dt.datetime | None = None) -> int:
    """Beat's pass every minute: the touchpoint sweep, segment entries and dates; how many
    contacts they enrolled."""
    now = now or timezone.now()
    return touchpoint_sweep(now=now) + segment_entries(now=now) + date_triggers(now=now)
