"""The one way to write the audit log, and the login events it records from day one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.http import HttpRequest

from inbound.lib.privacy import request_ip_hash
from inbound.models import AuditEntry


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `actor` defaults to the request's user; the IP is stored only hashed."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_object_repr(obj),
        ip_hash=request_ip_hash(request),
        detail=detail or {},
    )


def _object_repr(obj: models.Model | None) -> str:
    """How the entry names its object. The log is append-only and outlives erasure, so an
    object holding personal data names itself without it (`audit_label`)."""
    if obj is None:
        return ""
    label = getattr(obj, "audit_label", None)
    return str(label if label is not None else obj)[:200]


def _on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_record(action="login", actor=user, obj=user, request=request)


def _on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="logout", actor=user, obj=user, request=request)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first()
    detail = {"username": username}
    if credentials.get("factor"):  # the password was right, the second factor was not
        detail["factor"] = str(credentials["factor"])
    audit_record(action="login_failed", obj=user, request=request, detail=detail)


def _on_locked_out(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    audit_record(
        action="login_locked_out", request=request, detail={"username": (username or "")[:150]}
    )


def connect_login_signals() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_on_login, dispatch_uid="inbound.audit.login")
    user_logged_out.connect(_on_logout, dispatch_uid="inbound.audit.logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="inbound.audit.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="inbound.audit.locked_out")
