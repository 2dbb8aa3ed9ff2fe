"""What each kind of workflow step does, to a group of enrollments at once (`Outcome` per
enrollment): one consent query and one list of deliveries for 500 e-mails, one rule query for a
branch. Nothing here writes step runs or moves enrollments: `workflows.engine` does,
in the batch's transaction, with what the outcomes ask for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from contacts.models import Contact, Subscription, Tag, Touchpoint
from contacts.segments import rules_q, static_members_add, static_members_remove
from contacts.selectors import contacts_emailable
from inbound.lib.errors import DomainError
from workflows.graph import Graph, step_label
from workflows.models import Enrollment, StepRun, Workflow, WorkflowAction, WorkflowStep

BATCH = 500
MADRID = ZoneInfo("Europe/Madrid")
Kind = WorkflowStep.Kind
Go = str  # "next" | "no" | "wait" | "completed" | "goal" | "failed"


def step_campaign_sync(step: WorkflowStep, *, now: dt.datetime) -> Campaign:
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


@dataclass
class Outcome:
    status: str  # a StepRun.Status
    go: Go = "next"
    detail: str = ""
    wake_at: dt.datetime | None = None
    delivery_language: str | None = None  # a delivery to write for this run
    action: tuple[str, dict[str, Any]] | None = None  # an outbox row to write for this run


@dataclass
class Batch:
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


def _run_wait(step: WorkflowStep, group: list[Enrollment], batch: Batch) -> dict[int, Outcome]:
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
    step: WorkflowStep, group: list[Enrollment], batch: Batch
) -> dict[int, Outcome]:
    if step.email_id is None:
        return {e.pk: Outcome(StepRun.Status.FAILED, detail=_("No e-mail to send.")) for e in group}
    topic = step.topic if step.purpose == WorkflowStep.Purpose.TOPIC else None
    step_campaign_sync(step, now=batch.now)
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


def contacts_matching(rule: dict[str, Any], contact_ids: Iterable[int]) -> set[int]:
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
        matched = contacts_matching(step.rule, (e.contact_id for e in group))
        hits = {e.pk for e in group if e.contact_id in matched}
    return {
        e.pk: Outcome(StepRun.Status.PASSED, go="next", detail=_("Condition met: yes."))
        if e.pk in hits
        else Outcome(StepRun.Status.PASSED, go="no", detail=_("Condition not met: no."))
        for e in group
    }


def _run_goal(step: WorkflowStep, group: list[Enrollment]) -> dict[int, Outcome]:
    matched = contacts_matching(step.rule, (e.contact_id for e in group))
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


def _run_outbox(step: WorkflowStep, group: list[Enrollment], batch: Batch) -> dict[int, Outcome]:
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


def run_step(
    step: WorkflowStep, group: list[Enrollment], graph: Graph, batch: Batch
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


def goal_reached(workflow: Workflow, group: list[Enrollment]) -> set[int]:
    if not workflow.goal:
        return set()
    matched = contacts_matching(workflow.goal, (e.contact_id for e in group))
    return {e.pk for e in group if e.contact_id in matched}
