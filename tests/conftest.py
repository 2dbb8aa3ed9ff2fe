"""Shared fixtures: named staff personas, one per role (healthchecks-style alice/bob)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from inbound.roles import Role
from tests import flush
from tests.databases import (
    Snapshot,
    database_url,
    snapshot_take,
    template_drop,
    template_name,
    template_use,
)
from tests.factories import StaffFactory
from tests.smtp import SmtpSink

# How hard the property tests search, by HYPOTHESIS_PROFILE: "ci" (the default, what `make test`
# runs) tries a few dozen inputs per test, the same ones every run, so a failure reproduces and
# the suite's time is steady; "thorough" (nightly, or before a release) tries many new ones.
# Tests set no example counts of their own. Their fixtures (a client, a form) are made once per
# test, not per example, which is fine here: each example's writes are rolled back or checked
# as differences.
_PROPERTY_TESTS = {
    "deadline": None,  # a database round trip per example varies with the machine's load
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile(
    "ci", max_examples=20, derandomize=True, database=None, **_PROPERTY_TESTS
)
hypothesis_settings.register_profile("thorough", max_examples=1000, **_PROPERTY_TESTS)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """Give this test process its own broker namespace and cache key prefix, so two runs (or
    `make run`'s worker) sharing a broker never take each other's tasks, and pytest-xdist
    workers sharing a Redis cache never clear each other's keys. Processes a test starts (a
    Celery worker) inherit the namespace from the environment."""

    from django.conf import settings
    from django.test.signals import setting_changed

    from inbound.celery import app
    from inbound.lib.broker import celery_broker

    namespace = f"test-{os.getpid()}"
    os.environ["CELERY_NAMESPACE"] = namespace
    url, options = celery_broker(settings.REDIS_URL, Path(settings.VAR_DIR) / "broker", namespace)
    settings.CELERY_NAMESPACE = namespace
    settings.CELERY_BROKER_URL = url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    app.conf.update(broker_url=url, broker_transport_options=options)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    if settings.REDIS_URL:
        settings.CACHES["default"]["KEY_PREFIX"] = namespace
        setting_changed.send(sender=None, setting="CACHES", value=settings.CACHES, enter=True)


# Tests sharing a costly process run in one pytest-xdist worker (`--dist loadgroup`), one after
# the other: the real Celery worker starts once, and the benches, which each start servers and
# workers of their own, do not measure each other. They are sent first: the benches are the
# longest group, and would otherwise end the run alone on one worker.
XDIST_GROUPS = {"bench": "bench", "worker": "celery-worker"}
CHROMIUM = Path("/usr/bin/chromium")


def _group_order(item: pytest.Item) -> int:
    marked = [i for i, marker in enumerate(XDIST_GROUPS) if item.get_closest_marker(marker)]
    return marked[0] if marked else len(XDIST_GROUPS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, group in XDIST_GROUPS.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(group))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_group_order)  # stable: the order of the files within each part
    if not CHROMIUM.exists() and any(item.get_closest_marker("browser") for item in items):
        # Stop before the first test rather than fail every browser test halfway through.
        pytest.exit(
            f"The browser tests need Chromium at {CHROMIUM}. Install it with "
            "`sudo apt-get install chromium` (`make test` does when run as root), or leave "
            "them out with `-m 'not browser'`.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Browser tests keep the seeded live site between them (tests/e2e/conftest.py, `site`);
    any other test starts from the database as migrated. Done here, before any fixture: as a
    fixture it could run inside the test's transaction (`db`), whose rollback would bring the
    seeded rows back for the tests after it."""
    from pytest_django.plugin import blocking_manager_key

    if "site" not in getattr(item, "fixturenames", ()) and flush.layer_kept():
        with item.config.stash[blocking_manager_key].unblock():
            flush.layer_drop()


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


TEMPLATE_KEY = "test_database_template"
_template = pytest.StashKey[str]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(pytest-xdist's controller, as it starts each worker) Tell the worker the name of the
    run's template test database (tests/databases.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    if _template not in node.config.stash:
        node.config.stash[_template] = template_name()
    node.workerinput[TEMPLATE_KEY] = node.config.stash[_template]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """(pytest-xdist's controller) The workers are done: drop the template they copied."""
    from pytest_django.plugin import blocking_manager_key

    if _template in session.config.stash:
        with session.config.stash[blocking_manager_key].unblock():
            template_drop(session.config.stash[_template])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    request: pytest.FixtureRequest,
    django_db_blocker: Any,
) -> None:
    """Under pytest-xdist on PostgreSQL, the worker's test database is a copy of the run's
    template, migrated once (tests/databases.py)."""
    template = getattr(request.config, "workerinput", {}).get(TEMPLATE_KEY)
    if template:
        with django_db_blocker.unblock():
            template_use(template)


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Snapshot | None]:
    """pytest-django's test database, emptied after each transactional test by tests/flush.py;
    when bench smoke tests are to run, also a snapshot of it as migrated, which their throwaway
    databases copy (tests/databases.py)."""
    with django_db_blocker.unblock():
        flush.reference_take()
    flush.install()
    if not any(item.get_closest_marker("bench") for item in request.session.items):
        yield None
        return
    with django_db_blocker.unblock():
        snapshot = snapshot_take()
    try:
        yield snapshot
    finally:
        with django_db_blocker.unblock():
            snapshot.drop()


@pytest.fixture
def bench_database_url(
    django_db_setup: Snapshot | None, django_db_blocker: Any, tmp_path: Path
) -> Iterator[str]:
    """A throwaway database for one bench run, migrated and empty: never DATABASE_URL's."""
    assert django_db_setup is not None, "mark the test `bench`"
    with django_db_blocker.unblock():
        url, name = django_db_setup.copy(tmp_path)
    try:
        yield url
    finally:
        with django_db_blocker.unblock():
            django_db_setup.drop(name)


@pytest.fixture(scope="session")
def worker_smtp_sink() -> Iterator[SmtpSink]:
    """The SMTP server the Celery worker process sends its mail to, for the whole session."""
    sink = SmtpSink()
    controller = _smtp_controller(sink)
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: Any, worker_smtp_sink: SmtpSink
) -> Any:
    """A real `celery -A inbound worker` process on the configured broker and the test database,
    sending its mail to `worker_smtp_sink` whatever EMAIL_URL says.

    Tests using it must commit their data (`django_db(transaction=True)`) so the worker sees it.
    One per module: a worker left running would also take the tasks that later tests of this
    process publish and run themselves, and write their rows twice.
    """
    import signal
    import subprocess
    import sys
    import tempfile

    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
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
        env={**os.environ, "DATABASE_URL": url, "EMAIL_URL": worker_smtp_sink.url},
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


def _smtp_controller(sink: SmtpSink) -> Any:
    """An aiosmtpd server for `sink`, started on a free loopback port (sink.port)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port: the controller checks it by connecting
        probe.bind(("127.0.0.1", 0))
        sink.port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    return controller


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it."""
    sink = SmtpSink()
    controller = _smtp_controller(sink)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()
