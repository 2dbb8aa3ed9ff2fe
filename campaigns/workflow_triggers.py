"""What enrols contacts in workflows: interactions (the `touchpoint_recorded` signal, with a
periodic sweep for what the signal missed), entering a segment and a contact's dates (periodic
passes), and staff. Every path ends in `campaigns.workflows.enrol_contacts` with a trigger key
that makes it happen once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from campaigns.models import Workflow, WorkflowSegmentMember
from contacts.segments import segment_members

CONDITION_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains"}


def conditions_problems(conditions: Any) -> list[str]:
    """What is wrong with a touchpoint trigger's conditions on its properties."""
    if conditions in (None, [], {}):
        return []
    if not isinstance(conditions, list):
        return [_("The interaction's conditions must be a list of conditions.")]
    problems = []
    for index, condition in enumerate(conditions, start=1):
        if (
            not isinstance(condition, dict)
            or not isinstance(condition.get("key"), str)
            or not condition.get("key")
            or condition.get("op") not in CONDITION_OPS
            or "value" not in condition
            or (condition["op"] == "in" and not isinstance(condition["value"], list))
        ):
            problems.append(
                _(
                    "Condition %(n)d of the interaction: give a key, an operator (%(ops)s) and "
                    "a value (a list for «in»)."
                )
                % {"n": index, "ops": ", ".join(sorted(CONDITION_OPS))}
            )
    return problems


def staff_addresses_problem(addresses: str) -> str | None:
    """Why these comma-separated addresses cannot be notified; None when all are active staff."""
    listed = [a.strip() for a in addresses.split(",") if a.strip()]
    if not listed:
        return _("it needs the addresses of the staff to notify.")
    for address in listed:
        try:
            validate_email(address)
        except ValidationError:
            return _("«%(address)s» is not an e-mail address.") % {"address": address}
    staff = {
        email.lower()
        for email in get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .values_list("email", flat=True)
    }
    unknown = [a for a in listed if a.lower() not in staff]
    if unknown:
        return _("%(addresses)s: not the address of an active staff account.") % {
            "addresses": ", ".join(unknown)
        }
    return None


def segment_baseline(*, workflow: Workflow) -> int:
    """Record the segment's current members as already in it: only who enters it from now on
    is enrolled."""
    if workflow.trigger_segment is None:
        return 0
    members = segment_members(segment=workflow.trigger_segment).values_list("pk", flat=True)
    rows = [WorkflowSegmentMember(workflow=workflow, contact_id=pk) for pk in members.iterator()]
    WorkflowSegmentMember.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)
