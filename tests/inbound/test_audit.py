"""The append-only audit log and the login events it records."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.db import DatabaseError, connection, transaction
from django.test import Client

from inbound.audit import audit_record
from inbound.models import AppendOnlyError, AuditEntry
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/es/admin/login/"


def login(client: Client, username: str, password: str, address: str = "203.0.113.9") -> Any:
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/es/admin/"},
        REMOTE_ADDR=address,
    )


def test_successful_login_is_audited_with_a_hashed_ip(client: Client, marketer: Any) -> None:
    response = login(client, marketer.username, STAFF_PASSWORD)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="login")
    assert entry.actor == marketer
    assert entry.actor_name == marketer.username
    assert len(entry.ip_hash) == 32
    assert "203.0.113.9" not in entry.ip_hash


def test_failed_login_is_audited_without_the_password(client: Client, marketer: Any) -> None:
    response = login(client, marketer.username, "wrong-password")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.detail == {"username": marketer.username}
    assert entry.object_id == str(marketer.pk)
    assert "wrong-password" not in str(AuditEntry.objects.values())


def test_repeated_failures_lock_the_login_in_spanish_and_store_no_raw_ip(
    client: Client, marketer: Any
) -> None:
    for _ in range(5):
        login(client, marketer.username, "wrong-password")
    response = login(client, marketer.username, STAFF_PASSWORD)  # even the right one now
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
    assert not client.session.get("_auth_user_id")
    assert AuditEntry.objects.filter(action="login_locked_out").exists()
    stored = {a.ip_address for a in AccessAttempt.objects.all()}
    assert "203.0.113.9" not in stored
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("2001:10::/28") for ip in stored)


def test_password_spraying_from_many_addresses_locks_the_user_name(
    client: Client, marketer: Any, settings: Any
) -> None:
    limit = settings.AXES_USERNAME_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT  # a colleague is not locked out from 5 places
    for n in range(limit - 1):
        response = login(Client(), marketer.username, f"guess-{n}", address=f"198.51.100.{n + 1}")
        assert response.status_code == 200  # no address ever reaches its own limit
    last = login(Client(), marketer.username, "guess-last", address="198.51.100.250")
    assert last.status_code == 429  # the user name's limit is reached

    # Even the right password, from an address never seen, now waits out the cool-off.
    response = login(client, marketer.username, STAFF_PASSWORD, address="192.0.2.200")
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
    assert not client.session.get("_auth_user_id")
    assert AuditEntry.objects.filter(
        action="login_locked_out", detail__username=marketer.username
    ).exists()
    # Other accounts are untouched by it.
    assert login(Client(), "andres", STAFF_PASSWORD, address="192.0.2.201").status_code in {
        200,
        302,
    }


def test_fewer_spread_failures_than_the_user_name_limit_lock_nobody_out(
    client: Client, marketer: Any, settings: Any
) -> None:
    for n in range(settings.AXES_USERNAME_FAILURE_LIMIT - 1):
        login(Client(), marketer.username, f"guess-{n}", address=f"198.51.100.{n + 1}")
    response = login(client, marketer.username, STAFF_PASSWORD, address="192.0.2.200")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(marketer.pk)


def test_audit_entries_cannot_be_changed_or_deleted(admin_user: Any) -> None:
    entry = audit_record(action="contact_exported", actor=admin_user, detail={"rows": 3})
    entry.action = "nothing_happened"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    entry.refresh_from_db()
    assert entry.action == "contact_exported"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_to_rewrite_the_audit_log(admin_user: Any) -> None:
    entry = audit_record(action="contact_viewed", actor=admin_user)
    for statement in (
        "UPDATE inbound_auditentry SET action = 'x'",
        "DELETE FROM inbound_auditentry",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEntry.objects.get(pk=entry.pk).action == "contact_viewed"


def test_audit_survives_the_deletion_of_its_actor(editor: Any) -> None:
    entry = audit_record(action="page_published", actor=editor)
    editor.delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor_name == "lucia"
