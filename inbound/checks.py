"""System checks of our own settings, run by `manage.py check --deploy` with Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# Django's own rule for SECRET_KEY (security.W009).
KEY_MIN_LENGTH = 50
KEY_MIN_UNIQUE_CHARACTERS = 5


@register(Tags.security, deploy=True)
def personal_data_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """PERSONAL_DATA_KEY is long, random-looking and not SECRET_KEY: the point of a separate key
    is that rotating SECRET_KEY (after a leak, say) leaves the e-mail fingerprints alone."""
    key = settings.PERSONAL_DATA_KEY
    messages: list[CheckMessage] = []
    if len(key) < KEY_MIN_LENGTH or len(set(key)) < KEY_MIN_UNIQUE_CHARACTERS:
        messages.append(
            Warning(
                f"PERSONAL_DATA_KEY has less than {KEY_MIN_LENGTH} characters or less than "
                f"{KEY_MIN_UNIQUE_CHARACTERS} different ones.",
                hint="Generate it as docs/operations.md shows, before the first erasure: "
                "it can never change afterwards.",
                id="inbound.W001",
            )
        )
    if key == settings.SECRET_KEY:
        messages.append(
            Warning(
                "PERSONAL_DATA_KEY is the same as SECRET_KEY.",
                hint="Keep PERSONAL_DATA_KEY and give SECRET_KEY a new value, with the old one "
                "in SECRET_KEY_FALLBACKS for a while (docs/operations.md).",
                id="inbound.W002",
            )
        )
    return messages
