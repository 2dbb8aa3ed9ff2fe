"""/healthz and /readyz, as a load balancer or orchestrator sees them."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings


def test_healthz_answers_ok_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_down(client: Client) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ConnectionError")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A socket that accepts connections and never answers: a hung broker."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.mark.django_db
def test_readyz_does_not_hang_on_a_broker_that_never_answers(
    client: Client, silent_server: int
) -> None:
    started = time.monotonic()
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{silent_server}/0"):
        response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert elapsed < 10, f"/readyz took {elapsed:.1f}s"


@pytest.mark.django_db
def test_probes_answer_a_host_that_is_not_allowed(client: Client) -> None:
    # Orchestrators probe by pod IP, which is never in ALLOWED_HOSTS.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/es/", HTTP_HOST="10.1.2.3:8000").status_code == 400


@pytest.mark.django_db
def test_readyz_does_not_reveal_hosts_or_ports(client: Client) -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        body = client.get("/readyz").content.decode()
    assert "127.0.0.1" not in body
    assert ":1" not in body
