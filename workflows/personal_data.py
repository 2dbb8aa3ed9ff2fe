"""What `workflows` holds about citizens, declared in the personal-data registry
(`inbound.lib.personal_data`): enrolments, the steps they ran and the actions those wrote."""

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


def _enrollments_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from workflows.models import Enrollment

    rows.filter(status=Enrollment.Status.ACTIVE).update(
        status=Enrollment.Status.EXITED, finished_at=timezone.now(), waiting=False
    )


def _actions_cancel(rows: QuerySet[Any], identity: Identity) -> None:
    from workflows.models import WorkflowAction

    rows.filter(status=WorkflowAction.Status.PENDING).update(
        status=WorkflowAction.Status.CANCELLED, claimed_until=None, done_at=timezone.now()
    )


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
        model="workflows.Enrollment",
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
        model="workflows.StepRun",
        contact="enrollment__contact",
        fields=(),
        scrub=("detail",),
        erase=Erase.REDACT,
        note="Exported with their enrolment.",
    ),
    Holder(
        model="workflows.WorkflowAction",
        contact="run__enrollment__contact",
        fields=(),
        scrub=("payload", "error"),
        erase=Erase.REDACT,
        cancel=_actions_cancel,
        note="Webhook calls and staff e-mails: pending ones are cancelled, never sent after "
        "erasure. Their payloads copy data exported elsewhere.",
    ),
    Holder(
        model="workflows.WorkflowSegmentMember",
        contact="contact",
        fields=("workflow",),
        erase=Erase.DELETE,
        note="Bookkeeping of segment-entry triggers.",
    ),
)

exempt_field("workflows.WorkflowStep.notify_emails", why="staff addresses (active staff only)")
for name in ("trigger_conditions", "conditions", "goal"):
    exempt_field(f"workflows.Workflow.{name}", why="workflow rules")
exempt_field("workflows.WorkflowStep.rule", why="a branch's segment rule")
exempt_models(
    {
        "workflows.Workflow": "workflow definitions",
        "workflows.WorkflowStep": "workflow step definitions",
    }
)
