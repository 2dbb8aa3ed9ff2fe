"""What a web request publishes never waits for a broker that went away (`request_publish`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from inbound.celery import app as celery_app
from inbound.lib.broker import request_publish

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server on PATH")


class PrivateRedis:
    """A redis-server of this test's own, which it may stop and start again on the same port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def queued(self) -> int:
        client = redis.Redis(port=self.port)
        lists = [key for key in client.scan_iter() if client.type(key) == b"list"]
        return sum(int(client.llen(key)) for key in lists)


@pytest.fixture
def private_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    celery_app.conf.broker_url  # noqa: B018 -- load the configuration before changing it
    monkeypatch.setitem(celery_app.conf, "broker_url", f"redis://127.0.0.1:{server.port}/0")
    try:
        yield server
    finally:
        server.stop()


def _timed_publish() -> float:
    started = time.monotonic()
    with pytest.raises(Exception, match="Connection refused"):
        request_publish("inbound.tasks.heartbeat", kwargs={"name": "down"}, queue="default")
    return time.monotonic() - started


def test_a_request_publishes_at_once_fails_at_once_in_an_outage_and_recovers(
    private_broker: PrivateRedis,
) -> None:
    request_publish("inbound.tasks.heartbeat", kwargs={"name": "up"}, queue="default")
    assert private_broker.queued() == 1

    private_broker.stop()
    # Celery's own pooled connection waited about 6 s from the second failed publish on.
    waits = [_timed_publish() for _attempt in range(3)]
    assert max(waits) < 1.0, waits

    private_broker.start()
    request_publish("inbound.tasks.heartbeat", kwargs={"name": "again"}, queue="default")
    assert private_broker.queued() == 1  # a fresh server: only the message sent after it
