"""Shared fixtures: named staff personas, one per role (healthchecks-style alice/bob)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inbound.roles import Role
from tests.factories import StaffFactory
from tests.smtp import SmtpSink


def pytest_configure(config: pytest.Config) -> None:
    """Give this run its own broker namespace, so two runs (or `make run`'s worker) sharing a
    broker never take each other's tasks. The worker subprocess inherits it from the env."""
    import os
    from pathlib import Path

    from django.conf import settings

    from inbound.celery import app
    from inbound.lib.broker import celery_broker

    namespace = f"test-{os.getpid()}"
    os.environ["CELERY_NAMESPACE"] = namespace
    url, options = celery_broker(settings.REDIS_URL, Path(settings.VAR_DIR) / "broker", namespace)
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    app.conf.update(broker_url=url, broker_transport_options=options)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (cached public pages would leak between tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in the site's default language: a request under /en/ activates English
    for the thread, and it would otherwise stay active for the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _two_factor_off(settings: Any) -> None:
    """Two-step sign-in is off in tests unless a test turns it on (STAFF_2FA_REQUIRED defaults
    to on whenever DEBUG is off)."""
    settings.STAFF_2FA_REQUIRED = False


def _staff(role: Role, username: str) -> Any:
    return StaffFactory(username=username, roles=[role])


@pytest.fixture
def editor(db: None) -> Any:
    return _staff(Role.EDITOR, "lucia")


@pytest.fixture
def marketer(db: None) -> Any:
    return _staff(Role.MARKETER, "javier")


@pytest.fixture
def analyst(db: None) -> Any:
    return _staff(Role.ANALYST, "carmen")


@pytest.fixture
def admin_user(db: None) -> Any:
    return _staff(Role.ADMINISTRATOR, "andres")


@pytest.fixture
def personas(editor: Any, marketer: Any, analyst: Any, admin_user: Any) -> dict[Role, Any]:
    return {
        Role.EDITOR: editor,
        Role.MARKETER: marketer,
        Role.ANALYST: analyst,
        Role.ADMINISTRATOR: admin_user,
    }


def _database_url(settings_dict: dict[str, Any]) -> str:
    from urllib.parse import quote

    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict.get("USER") or "")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"])
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: Any) -> Any:
    """A real `celery -A inbound worker` process on the configured broker and the test database.

    Tests using it must commit their data (`django_db(transaction=True)`) so the worker sees it.
    """
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from django.db import connection

    with django_db_blocker.unblock():
        url = _database_url(connection.settings_dict)
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inbound",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "default,email,tracking",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DATABASE_URL": url},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port: the controller checks it by connecting
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()
