"""The four staff roles, their permissions and the permission API (who may open which URL:
tests/inbound/test_url_matrix.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from inbound.roles import Role, has_role, user_roles
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_migrations_create_the_four_roles() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


def test_editor_may_edit_legal_texts_but_not_read_the_audit_log() -> None:
    perms = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))
    assert {"change_legalpage", "change_accessibilitystatement"} <= perms
    assert "view_auditentry" not in perms


def test_analyst_holds_no_write_permission() -> None:
    perms = Group.objects.get(name="Analyst").permissions.values_list("codename", flat=True)
    assert all(codename.startswith("view_") for codename in perms)


def test_administrator_holds_every_permission() -> None:
    from django.contrib.auth.models import Permission

    assert Group.objects.get(name="Administrator").permissions.count() == Permission.objects.count()


def test_has_role_needs_an_active_staff_member(editor: Any) -> None:
    assert has_role(editor, Role.EDITOR)
    assert not has_role(editor, Role.MARKETER)
    editor.is_active = False
    assert not has_role(editor, Role.EDITOR)
    outsider = StaffFactory(username="vecino", is_staff=False, roles=[Role.EDITOR])
    assert not has_role(outsider, Role.EDITOR)


def test_superuser_holds_every_role() -> None:
    root = StaffFactory(username="root", is_superuser=True)
    assert user_roles(root) == set(Role)


# Every staff URL against every role and anonymous visitors: tests/inbound/test_url_matrix.py.


def test_audit_log_cannot_be_changed_even_by_an_administrator(
    client: Client, admin_user: Any
) -> None:
    from inbound.audit import audit_record

    entry = audit_record(action="contact_viewed", actor=admin_user, detail={"contact": 7})
    client.force_login(admin_user)
    change = client.get(reverse("admin:inbound_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200
    assert b'type="submit"' not in change.content.split(b'id="content-main"')[1]
    delete = client.post(
        reverse("admin:inbound_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    add = client.get(reverse("admin:inbound_auditentry_add"))
    assert add.status_code == 403


def test_role_required_sends_strangers_to_login_and_refuses_other_roles(
    rf: Any, editor: Any, analyst: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse

    from inbound.roles import role_required

    @role_required(Role.EDITOR)
    def view(request: Any) -> HttpResponse:
        return HttpResponse("ok")

    request = rf.get("/es/staff/thing/")
    request.user = AnonymousUser()
    assert view(request).status_code == 302
    request.user = analyst
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = editor
    assert view(request).content == b"ok"


def test_has_role_permission_guards_api_views(rf: Any, marketer: Any, analyst: Any) -> None:
    from inbound.roles import HasRole

    permission = HasRole.of(Role.MARKETER, Role.ADMINISTRATOR)()
    request = rf.get("/api/v1/anything/")
    request.user = marketer
    assert permission.has_permission(request, None)
    request.user = analyst
    assert not permission.has_permission(request, None)
