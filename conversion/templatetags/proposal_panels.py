"""The "Proposed changes" panel of a contact's admin page (templates/admin/contacts/contact/
change_form.html): a template tag, so `contacts` shows it without importing `conversion`."""

from __future__ import annotations

from typing import Any

from django import template

from contacts.models import Contact
from conversion.proposals import contact_proposals

register = template.Library()


@register.inclusion_tag("conversion/staff/_proposals_panel.html", takes_context=True)
def contact_proposed_changes(context: dict[str, Any], contact: Contact | None) -> dict[str, Any]:
    """Values from submissions nobody confirmed that would change this contact."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if contact is None or contact.pk is None or user is None or contact.is_anonymised:
        return {"proposals": None}
    return {
        "contact": contact,
        "proposals": contact_proposals(contact=contact),
        "may_change": user.has_perm("contacts.change_contact"),
        "csrf_token": context.get("csrf_token"),
    }
