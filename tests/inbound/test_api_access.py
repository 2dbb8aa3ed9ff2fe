"""Who may call the staff API and how often: expiring, hashed tokens (django-rest-knox) made on
the staff member's own page, a rate limit on every staff endpoint, and the move of the old
plain tokens."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from inbound.models import AuditEntry
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def refused(response: Any) -> bool:
    """No signed-in caller: 403 (the session comes first and asks for no header) or 401."""
    return response.status_code in {401, 403} and bool(response.json()["detail"])


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# --- Tokens ----------------------------------------------------------------------------------


def test_a_token_works_until_it_expires(marketer: Any, settings: Any) -> None:
    instance, token = AuthToken.objects.create(user=marketer)
    assert instance.expiry is not None
    expected = timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert abs((instance.expiry - expected).total_seconds()) < 60
    assert with_token(token).get(ME).json()["username"] == marketer.username

    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))

    assert refused(with_token(token).get(ME))
    assert not AuthToken.objects.filter(pk=instance.pk).exists()  # expired ones are removed


def test_tokens_are_stored_only_as_digests(marketer: Any) -> None:
    instance, token = AuthToken.objects.create(user=marketer)
    stored = str(list(AuthToken.objects.values()))
    assert token not in stored
    assert instance.digest != token and len(instance.digest) == 128


def test_a_token_of_someone_who_is_not_staff_is_refused() -> None:
    citizen_account = StaffFactory(username="vecino", is_staff=False)
    _instance, token = AuthToken.objects.create(user=citizen_account)
    assert refused(with_token(token).get(ME))


def test_a_made_up_token_is_refused() -> None:
    assert refused(with_token("0" * 64).get(ME))


# --- The token page ----------------------------------------------------------------------------


def test_staff_create_see_once_use_and_revoke_their_tokens(editor: Any) -> None:
    client = Client()
    client.force_login(editor)
    page = reverse("staff_account:api-tokens")
    assert f'href="{page}"' in client.get(reverse("admin:index")).content.decode()
    assert "You have no token." in client.get(page.replace("/es/", "/en/")).content.decode()

    created = client.post(page, {"create": "1"})
    assert created.status_code == 200
    instance = AuthToken.objects.get(user=editor)
    html = created.content.decode()
    token = html.split('<code class="api-token-new">')[1].split("</code>")[0]
    assert token.startswith(instance.token_key)
    assert with_token(token).get(ME).status_code == 200
    assert token not in client.get(page).content.decode()  # shown once only
    entry = AuditEntry.objects.get(action="api_token_created")
    assert entry.actor == editor and entry.detail["token"] == token[:8]
    assert token not in str(entry.detail)

    response = client.post(page, {"revoke": instance.digest})
    assert response.status_code == 302
    assert refused(with_token(token).get(ME))
    assert AuditEntry.objects.filter(action="api_token_revoked", actor=editor).exists()


def test_nobody_revokes_someone_elses_token(editor: Any, marketer: Any) -> None:
    instance, token = AuthToken.objects.create(user=marketer)
    client = Client()
    client.force_login(editor)
    client.post(reverse("staff_account:api-tokens"), {"revoke": instance.digest})
    assert with_token(token).get(ME).status_code == 200


def test_the_number_of_tokens_is_limited(editor: Any, settings: Any) -> None:
    settings.API_TOKENS_PER_USER = 2
    client = Client()
    client.force_login(editor)
    page = reverse("staff_account:api-tokens").replace("/es/", "/en/")
    for _ in range(3):
        response = client.post(page, {"create": "1"})
    assert AuthToken.objects.filter(user=editor).count() == 2
    assert "You already have 2 tokens" in response.content.decode()


def test_the_token_page_is_for_staff_only() -> None:
    page = reverse("staff_account:api-tokens")
    assert Client().get(page).status_code == 302  # to the login page
    client = Client()
    client.force_login(StaffFactory(username="vecino", is_staff=False))
    assert client.get(page).status_code == 403
    assert client.post(page, {"create": "1"}).status_code == 403
    assert not AuthToken.objects.exists()


# --- Rate limit --------------------------------------------------------------------------------


def test_staff_calls_beyond_the_rate_are_refused_per_member(
    marketer: Any, analyst: Any, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "staff": "3/min",
        },
    }
    client = APIClient()
    client.force_authenticate(marketer)
    assert [client.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/api/v1/topics/").status_code == 429  # one budget for every endpoint
    other = APIClient()
    other.force_authenticate(analyst)
    assert other.get(ME).status_code == 200


def _api_views(patterns: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            found.append((route, pattern.callback))
    return found


def test_every_staff_endpoint_is_rate_limited_per_member() -> None:
    staff = []
    for route, callback in _api_views(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        assert view is not None, route
        if not view().get_authenticators():
            continue  # public endpoints: no account, their own limits per client
        staff.append(route)
        throttles = view().get_throttles()
        assert any(isinstance(t, UserRateThrottle) for t in throttles), route
    assert any("contacts/" in route for route in staff)
    assert "api/v1/me/" in staff


# --- The move from plain tokens ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the schema editor, as in a real migration
def test_old_plain_tokens_move_to_hashed_expiring_ones_and_their_table_goes(
    marketer: Any, settings: Any
) -> None:
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, "
            "user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [old_key, timezone.now(), marketer.pk],
        )
    migration = importlib.import_module("inbound.migrations.0004_api_tokens_to_knox")

    with connection.schema_editor() as schema_editor:
        migration.tokens_to_knox(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    moved = AuthToken.objects.get(user=marketer)
    assert old_key not in str(list(AuthToken.objects.values()))
    assert moved.expiry is not None and moved.expiry > timezone.now() + dt.timedelta(
        days=settings.API_TOKEN_TTL_DAYS - 1
    )
    assert with_token(old_key).get(ME).json()["username"] == marketer.username
