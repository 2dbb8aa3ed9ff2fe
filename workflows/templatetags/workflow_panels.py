"""The "Workflows" panel of a contact's admin page (templates/admin/contacts/contact/
change_form.html): a template tag, so `contacts` shows it without importing `campaigns`."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Prefetch

from contacts.models import Contact
from workflows.models import Enrollment, StepRun

register = template.Library()

ENROLLMENTS_SHOWN = 20


@register.inclusion_tag("workflows/_contact_panel.html", takes_context=True)
def contact_workflows(context: dict[str, Any], contact: Contact | None) -> dict[str, Any]:
    """The contact's latest enrollments, each with its position and every step it ran: two
    queries, whatever the number of enrollments and runs."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if contact is None or contact.pk is None or user is None:
        return {"enrollments": None}
    if not user.has_perm("workflows.view_workflow"):
        return {"enrollments": None}
    runs = StepRun.objects.select_related("step").order_by("seq")
    enrollments = list(
        Enrollment.objects.filter(contact=contact, test=False)
        .select_related("workflow", "step")
        .prefetch_related(Prefetch("runs", queryset=runs))
        .order_by("-enrolled_at", "-pk")[:ENROLLMENTS_SHOWN]
    )
    return {
        "enrollments": enrollments,
        "limit": ENROLLMENTS_SHOWN,
        "may_change": user.has_perm("workflows.change_workflow"),
        "csrf_token": context.get("csrf_token"),
    }
