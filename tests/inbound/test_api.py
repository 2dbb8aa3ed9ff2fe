"""The staff API: its schema, its docs served locally, and the `me` endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema_describes_the_api(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]


def test_api_docs_load_swagger_from_our_own_static_files(client: Client) -> None:
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_me_lists_the_callers_roles(client: Client, marketer: Any) -> None:
    client.force_login(marketer)
    body = client.get("/api/v1/me/").json()
    assert body == {"username": "javier", "name": "Staff", "roles": ["Marketer"]}


def test_me_refuses_anonymous_callers(client: Client) -> None:
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["detail"]
