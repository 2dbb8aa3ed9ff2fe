"""`python -m bench sending`: a short run prints its one JSON line, with nobody lost even though
the worker was killed mid-send, and every message sent twice one the killed worker had in
flight."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.benches import bench_run

pytestmark = pytest.mark.bench


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="a worker, the bench and its children write at once: PostgreSQL (CI sets it)",
)
def test_sending_bench_prints_one_json_line_and_loses_nobody_when_the_worker_is_killed(
    bench_database_url: str,
) -> None:
    completed = bench_run(
        "sending",
        *("--size", "300", "--plain", "300", "--fault-size", "1500"),
        database_url=bench_database_url,
        timeout=600,
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert report["bench"] == "sending"
    assert report["recipients"] == report["sink_recipients"] == 300
    assert report["sink_missing"] == report["sink_duplicates"] == 0
    assert report["fault_recipients"] == report["fault_sink_recipients"] == 1500
    assert report["fault_missing"] == 0
    # Every message the sink got twice was in flight in the killed worker, by its journal.
    assert report["fault_duplicates_not_in_flight"] == 0
    assert report["fault_duplicates_in_flight"] <= report["fault_in_flight"]
    assert report["engine_msgs_per_s"] > 0 and report["plain_fair_msgs_per_s"] > 0
    assert set(report["targets"]) == {
        "engine_msgs_per_s",
        "vs_plain_fair",
        "sink_missing",
        "sink_duplicates",
        "fault_missing",
        "fault_duplicates_not_in_flight",
    }
