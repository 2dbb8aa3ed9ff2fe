"""Staff roles and the small permission API the apps use.

A role is a Django group whose permissions are declared here, per app and model, so an app
added later only declares what each role may do with its models (ROLE_GRANTS) and the grants
follow after `migrate`. Checks in code go through `has_role` / `role_required` / `HasRole`,
or plain `user.has_perm` for one permission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.permissions import BasePermission


class Role(StrEnum):
    EDITOR = "Editor"
    MARKETER = "Marketer"
    ANALYST = "Analyst"
    ADMINISTRATOR = "Administrator"


ALL = ("add", "change", "delete", "view")
READ = ("view",)

# role -> {app_label or "app_label.model": actions}. "*" is every app. Custom permissions
# (e.g. "export") are listed by codename prefix like the default actions.
ROLE_GRANTS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.EDITOR: {
        "content": (*ALL, "publish"),
        "contacts.topic": READ,
        "inbound.legalpage": ("change", "view"),
        "inbound.accessibilitystatement": ("change", "view"),
    },
    Role.MARKETER: {
        "contacts": (*ALL, "export"),
        "conversion": (*ALL, "publish"),
        "campaigns": (*ALL, "send"),
        "workflows": ALL,
        "surveys": ALL,
        "listening": ALL,
        "content": READ,
        "analytics": READ,
    },
    Role.ANALYST: {
        # Read-only on contacts and no "export": analysts never take personal data away.
        "contacts": READ,
        "conversion": READ,
        "campaigns": READ,
        "workflows": READ,
        "surveys": READ,
        "listening": READ,
        "content": READ,
        "analytics": READ,
    },
    Role.ADMINISTRATOR: {"*": ()},  # every permission
}


def _granted(role: Role, app_label: str, model: str, codename: str) -> bool:
    grants = ROLE_GRANTS[role]
    if "*" in grants:
        return True
    actions = grants.get(f"{app_label}.{model}", grants.get(app_label))
    if actions is None:
        return False
    action = codename.split("_", 1)[0]
    return action in actions


def roles_sync(*, group_model: Any, permission_model: Any) -> None:
    """Create the four groups and set their permissions from ROLE_GRANTS (idempotent).

    Takes the model classes so the data migration can pass its historical models.
    """
    permissions = list(permission_model.objects.select_related("content_type"))
    for role in Role:
        group, _created = group_model.objects.get_or_create(name=role.value)
        wanted = [
            p
            for p in permissions
            if _granted(role, p.content_type.app_label, p.content_type.model, p.codename)
        ]
        group.permissions.set(wanted)


def roles_sync_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    roles_sync(group_model=Group, permission_model=Permission)


UserLike = AbstractBaseUser | AnonymousUser


def user_roles(user: Any) -> set[Role]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Role)
    names = set(user.groups.values_list("name", flat=True))
    return {role for role in Role if role.value in names}


def has_role(user: Any, *roles: Role) -> bool:
    """True when an active staff user holds any of `roles` (superusers hold them all)."""
    return bool(getattr(user, "is_staff", False) and user_roles(user) & set(roles))


def assign_roles(user: Any, roles: Iterable[Role]) -> None:
    from django.contrib.auth.models import Group

    user.groups.add(*Group.objects.filter(name__in=[r.value for r in roles]))


F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: Role) -> Callable[[F], F]:
    """View decorator: anonymous users go to the login page, other users get a 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(Role.MARKETER)]`."""

    roles: tuple[Role, ...] = ()

    @classmethod
    def of(cls, *roles: Role) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(r.name for r in roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, *self.roles)
