"""`manage.py seed_demo`: the demo institution, idempotent, passwords only in DEBUG."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory, override_settings

from inbound.models import AccessibilityStatement, LegalPage
from inbound.roles import Role, has_role

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@override_settings(DEBUG=True)
def test_seed_demo_creates_one_working_account_per_role_and_prints_it() -> None:
    output = seed()
    users = get_user_model().objects.filter(is_staff=True)
    assert users.count() == 4
    for username, role in (
        ("editora", Role.EDITOR),
        ("marketing", Role.MARKETER),
        ("analista", Role.ANALYST),
        ("admin", Role.ADMINISTRATOR),
    ):
        password = f"demo-{username}-2026"
        assert f"{username}" in output and password in output
        request = RequestFactory().post("/es/admin/login/")
        user = authenticate(request, username=username, password=password)
        assert user is not None and has_role(user, role)
    assert "http://127.0.0.1:8000/es/admin/" in output


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent() -> None:
    seed()
    seed()
    assert get_user_model().objects.count() == 4
    assert LegalPage.objects.count() == 3
    assert AccessibilityStatement.objects.count() == 1


@override_settings(DEBUG=False)
def test_seed_demo_sets_no_password_when_debug_is_off() -> None:
    output = seed()
    assert "demo-admin-2026" not in output
    assert "passwords were not set" in output
    assert not any(u.has_usable_password() for u in get_user_model().objects.all())


def test_seed_demo_without_debug_disables_demo_passwords_left_from_before() -> None:
    with override_settings(DEBUG=True):
        seed()
    with override_settings(DEBUG=False):
        seed()
    request = RequestFactory().post("/es/admin/login/")
    assert authenticate(request, username="admin", password="demo-admin-2026") is None
