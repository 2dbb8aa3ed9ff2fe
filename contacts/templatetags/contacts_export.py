"""Template filters of the readable access export (templates/contacts/data_export.html)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def export_kind(value: Any) -> str:
    """"dict", "list" or "scalar": how the export page lays out a value."""
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list | tuple):
        return "list"
    return "scalar"
