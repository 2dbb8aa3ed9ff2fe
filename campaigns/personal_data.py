"""What `campaigns` holds about citizens, declared in the personal-data registry
(`inbound.lib.personal_data`): deliveries, workflow enrolments, their steps and actions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inbound.lib.personal_data import (
    Erase,
    Holder,
    Identity,
    Retention,
    exempt_field,
    exempt_models,
    register,
)


def _deliveries_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from campaigns.models import Delivery

    rows.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, claimed_until=None, error="erased"
    )


def _enrollments_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from campaigns.models_workflows import Enrollment

    rows.filter(status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.EXITED, finished_at=timezone.now(), waiting=False
    )


def _actions_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from campaigns.models_workflows import WorkflowAction

    rows.filter(status=WorkflowAction.Status.PENDING).update(
        status=WorkflowAction.Status.CANCELLED, claimed_until=None, done_at=timezone.now()
    )


def _deliveries_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    def iso(value: Any) -> Any:
        return value.isoformat() if value else None

    return [
        {
            "campaign": d.campaign.name,
            "subject": (d.email or d.campaign.email).subject,
            "status": d.status,
            "sent_at": iso(d.sent_at),
            "opened_at": iso(d.opened_at),
            "clicked_at": iso(d.clicked_at),
            "language": d.language,
        }
        for d in rows.select_related("campaign__email", "email").order_by("sent_at", "pk")
    ]


def _enrollments_export(rows: QuerySet[Any]) -> list[dict[str, Any]]:
    def iso(value: Any) -> Any:
        return value.isoformat() if value else None

    return [
        {
            "workflow": e.workflow.name,
            "status": e.status,
            "enrolled_at": iso(e.enrolled_at),
            "finished_at": iso(e.finished_at),
            "steps": [
                {
                    "step": r.step.name or r.step.key if r.step else _("(deleted step)"),
                    "status": r.status,
                    "due_at": iso(r.due_at),
                    "ran_at": iso(r.ran_at),
                }
                for r in e.runs.all()
            ],
        }
        for e in rows.select_related("workflow")
        .prefetch_related("runs__step")
        .order_by("enrolled_at", "pk")
    ]


register(
    Holder(
        model="campaigns.Delivery",
        contact="contact",
        fields=(),
        scrub=("error",),
        erase=Erase.REDACT,
        cancel=_deliveries_cancel,
        export="deliveries",
        exporter=_deliveries_export,
        retention=(Retention("deliveries", "next_attempt_at"),),
        note="Rows stay for campaign reports; pending ones are skipped, never sent after "
        "erasure; SMTP errors quoting the address are scrubbed.",
    ),
    Holder(
        model="campaigns.Enrollment",
        contact="contact",
        fields=(),
        scrub=("context",),
        erase=Erase.REDACT,
        cancel=_enrollments_cancel,
        export="workflows",
        exporter=_enrollments_export,
        retention=(Retention("workflow_runs", "finished_at", {"finished_at__isnull": False}),),
    ),
    Holder(
        model="campaigns.StepRun",
        contact="enrollment__contact",
        fields=(),
        scrub=("detail",),
        erase=Erase.REDACT,
        note="Exported with their enrolment.",
    ),
    Holder(
        model="campaigns.WorkflowAction",
        contact="run__enrollment__contact",
        fields=(),
        scrub=("payload", "error"),
        erase=Erase.REDACT,
        cancel=_actions_cancel,
        note="Webhook calls and staff e-mails: pending ones are cancelled, never sent after "
        "erasure. Their payloads copy data exported elsewhere.",
    ),
    Holder(
        model="campaigns.WorkflowSegmentMember",
        contact="contact",
        fields=("workflow",),
        erase=Erase.DELETE,
        note="Bookkeeping of segment-entry triggers.",
    ),
)

exempt_field("campaigns.Sender.email", why="the institution's own sending address")
exempt_field("campaigns.Email.reply_to", why="the institution's reply address")
exempt_field("campaigns.WorkflowStep.notify_emails", why="staff addresses (active staff only)")
for name in ("trigger_conditions", "conditions", "goal"):
    exempt_field(f"campaigns.Workflow.{name}", why="workflow rules")
exempt_field("campaigns.WorkflowStep.rule", why="a branch's segment rule")
exempt_models(
    {
        "campaigns.Sender": "the institution's verified senders",
        "campaigns.Email": "e-mail templates",
        "campaigns.Campaign": "campaign definitions",
        "campaigns.CampaignLink": "tracked links of a campaign",
        "campaigns.BulletinItem": "published content announced in bulletins",
        "campaigns.Workflow": "workflow definitions",
        "campaigns.WorkflowStep": "workflow step definitions",
    }
)
