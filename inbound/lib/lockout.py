"""Sign-in lockouts: per address, per user name and address, and per user name alone.

django-axes counts failed sign-ins per group of lockout parameters and locks out when any group
reaches one limit (`AXES_FAILURE_LIMIT`). Password spraying comes from many addresses at once,
each trying a user name a few times: no per-address group ever fills. A group on the user name
alone catches it, but a limit that low would let anyone lock a colleague out from five
addresses. So the user-name group gets its own, higher limit (`AXES_USERNAME_FAILURE_LIMIT`).

Axes compares the largest count with its one limit, so each group's count is scaled to it:
⌊count × limit ÷ group limit⌋ reaches `limit` exactly when the count reaches the group's limit.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

USERNAME_ONLY = "username"


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes' database handler with a limit of its own for the user name alone."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        scaled = [
            count * limit // settings.AXES_USERNAME_FAILURE_LIMIT
            if parameter == USERNAME_ONLY
            else count
            for parameter, count in zip(parameters, counts, strict=True)
        ]
        return max(scaled, default=0)
