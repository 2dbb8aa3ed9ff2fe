"""Links to the content staff pages, for admin templates."""

from __future__ import annotations

from typing import Any

from django import template

from content.search import SEARCH_REPORT_ROLES
from inbound.roles import has_role

register = template.Library()


@register.filter
def may_view_search_report(user: Any) -> bool:
    """Whether `user` may open the search report (the same rule as its view)."""
    return has_role(user, *SEARCH_REPORT_ROLES)
