"""API wiring shared by every app: the exception handler and the staff "me" endpoint. (Who
may call the staff API, and how often: `inbound.lib.api_access`.)"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from inbound.lib.errors import DomainError
from inbound.roles import user_roles


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=exc.status)
    return drf_exception_handler(exc, context)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """Who the caller is and which roles they hold."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "username": user.get_username(),
            "name": user.get_full_name(),  # type: ignore[union-attr]
            "roles": sorted(role.value for role in user_roles(user)),
        }
        return Response(MeSerializer(data).data)


# How the schema at /api/schema/ describes the staff API's authentication (inbound.lib.api_access).
class StaffSessionScheme(SessionScheme):
    target_class = "inbound.lib.api_access.StaffSessionAuthentication"


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inbound.lib.api_access.StaffTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(  # type: ignore[no-any-return]
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 -- the scheme name
        )
