"""Who may call the staff API, and how often: the authentication and throttle classes named in
settings.REST_FRAMEWORK. (Kept apart from views: DRF imports these while it loads its own.)

- Sessions and tokens are refused, with a message, to a member whose role must sign in with
  two factors and who has not enrolled a device, or whose session was not verified with one
  (`inbound.twofactor`).
- Tokens are django-rest-knox's: random, shown once, stored only as a SHA-512 digest, and
  refused once `API_TOKEN_TTL_DAYS` have passed (`REST_KNOX["TOKEN_TTL"]`).
- Every staff endpoint is limited per member (`API_STAFF_RATE`); public endpoints set their
  own limits.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from inbound.lib.privacy import client_ip, ip_hash


def _enrol_first() -> AuthenticationFailed:
    return AuthenticationFailed(
        _(
            "Your account must use two-step verification: turn it on (or enter your code) at "
            "/es/staff/account/two-factor/ before using the API."
        )
    )


class StaffSessionAuthentication(SessionAuthentication):
    """The admin's session, for staff whose session passed any second factor they need."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        from inbound.twofactor import session_needs_second_factor

        if session_needs_second_factor(request._request.user):
            raise _enrol_first()
        return found


class StaffTokenAuthentication(TokenAuthentication):  # type: ignore[misc]
    """django-rest-knox tokens, for active staff only; a role that must sign in with two
    factors needs its device enrolled, or its tokens stop working too."""

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        if not user.is_staff:
            raise AuthenticationFailed(_("This account may not use the API."))
        from inbound.twofactor import two_factor_missing

        if two_factor_missing(user):
            raise _enrol_first()
        return user, token


class StaffRateThrottle(UserRateThrottle):
    """Requests per staff member on every staff endpoint (`staff` rate, `API_STAFF_RATE`).

    Callers not signed in are told apart by a keyed hash of their address, so no raw IP lands
    in the cache.
    """

    scope = "staff"

    def get_rate(self) -> str | None:
        # Read at request time: DRF binds the rates when the module is imported.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]

    def get_ident(self, request: Request) -> str:
        return ip_hash(client_ip(request)) or "unknown"
