"""`{% call_to_action "name-or-id" %}`: a call to action in any template."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from conversion.ctas import cta_find, cta_render

register = template.Library()


@register.simple_tag
def call_to_action(key: str | int) -> SafeString | str:
    """The CTA's button or banner; nothing when it is unknown, inactive or leads nowhere."""
    cta = cta_find(key)
    return (cta_render(cta) if cta is not None else None) or ""
