"""Tasks run in a real worker, and only for transactions that committed."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from inbound.celery import app
from inbound.models import WorkerHeartbeat
from inbound.tasks import heartbeat

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Rollback(Exception):
    pass


def wait_for_row(name: str, timeout: float = 60.0) -> WorkerHeartbeat | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = WorkerHeartbeat.objects.filter(name=name).first()
        if row is not None:
            return row
        time.sleep(0.2)
    return None


def test_task_enqueued_in_committed_transaction_runs_in_the_worker(
    celery_worker_process: Any,
) -> None:
    name = f"committed-{uuid.uuid4().hex}"
    with transaction.atomic():
        heartbeat.delay_on_commit(name=name)
        # Nothing is sent before the commit: the worker cannot have seen it yet.
        assert not WorkerHeartbeat.objects.filter(name=name).exists()

    row = wait_for_row(name)
    assert row is not None, "the worker never ran the committed task"
    assert row.worker.startswith("test-")  # written by the worker process, not by us


def test_task_enqueued_in_rolled_back_transaction_never_runs(celery_worker_process: Any) -> None:
    lost = f"rolled-back-{uuid.uuid4().hex}"
    sentinel = f"sentinel-{uuid.uuid4().hex}"
    with pytest.raises(Rollback), transaction.atomic():
        heartbeat.delay_on_commit(name=lost)
        raise Rollback

    # The single-threaded worker takes messages in order: once the sentinel sent after it has
    # run, the rolled-back task would have run too had it ever been sent.
    with transaction.atomic():
        heartbeat.delay_on_commit(name=sentinel)
    assert wait_for_row(sentinel) is not None
    assert not WorkerHeartbeat.objects.filter(name=lost).exists()


def test_broker_is_redis_when_redis_url_is_set() -> None:
    expected = "redis" if settings.REDIS_URL else "filesystem"
    assert app.conf.broker_url.split("://")[0] == expected
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert {q.name for q in app.conf.task_queues} == {"default", "email", "tracking"}


def test_no_periodic_tick_expires_before_several_of_its_intervals() -> None:
    """A tick that expires after one interval is dropped whenever the worker is busy: on a loaded
    machine 97 of 101 relay ticks were, and an opt-in e-mail took four minutes."""
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        expires = entry.get("options", {}).get("expires")
        if isinstance(entry["schedule"], float):
            assert expires is not None and expires >= 3 * entry["schedule"], name
        else:  # a crontab entry runs once a day or an hour: it must never be dropped
            assert expires is None, name


def test_every_periodic_task_is_a_registered_task() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_configuring_the_app_creates_the_filesystem_broker_folders_without_errors(
    tmp_path: Any,
) -> None:
    """A fresh checkout has no var/broker: configuring Celery makes its folders, and nothing
    is logged (reading the app's own conf while it configures used to recurse endlessly)."""
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from inbound.celery import app; print(app.conf.broker_url)"
    )
    env = {
        **__import__("os").environ,
        "VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "inbound.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "filesystem://"
    assert "RecursionError" not in done.stderr
    assert [path.name for path in (tmp_path / "broker").rglob("*") if path.is_dir()].count(
        "queue"
    ) == 1


def test_the_worker_yields_the_cpu_to_the_web_by_its_niceness(celery_worker_process: Any) -> None:
    """On a machine web and worker share, a burst of citizens' requests is answered first: the
    worker runs WORKER_NICENESS below the process that started it (inbound.celery)."""
    import os

    name = f"nice-{uuid.uuid4().hex}"
    with transaction.atomic():
        heartbeat.delay_on_commit(name=name)
    assert wait_for_row(name) is not None  # the worker is up and past its start-up

    ours = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, ours + settings.WORKER_NICENESS)
    assert settings.WORKER_NICENESS == 10  # the default
    assert os.getpriority(os.PRIO_PROCESS, celery_worker_process.pid) == expected
