"""`python -m bench workflows`: a short run prints its one JSON line, and every enrollment
advances exactly once even though the worker was killed mid-run."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from tests.benches import bench_run

pytestmark = pytest.mark.bench


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="SKIP LOCKED claims from two worker processes and the bench: PostgreSQL (CI sets it)",
)
def test_workflows_bench_prints_one_json_line_and_advances_everyone_once_despite_a_kill(
    bench_database_url: str,
) -> None:
    # 1,500 in the fault run: more than the two first batches of 500 the worker's two processes
    # claim at once, so the worker is killed while enrollments are still due.
    completed = bench_run(
        "workflows",
        *("--size", "300", "--fault-size", "1500", "--floor-size", "300"),
        database_url=bench_database_url,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert report["bench"] == "workflows"
    assert report["completed"] == report["deliveries"] == report["tagged"] == 300
    assert report["step_runs"] == 4 * 300
    # Two of the four steps act for the citizen (the tag, the e-mail); two are bookkeeping.
    assert report["action_runs"] == report["bookkeeping_runs"] == 2 * 300
    assert report["actions_per_s"] == report["bookkeeping_steps_per_s"] > 0
    assert report["missing"] == report["duplicates"] == report["active_left"] == 0
    assert report["fault_killed_after"] >= 500
    assert report["fault_completed"] == report["fault_deliveries"] == report["fault_tagged"] == 1500
    assert report["fault_step_runs"] == 4 * 1500
    assert report["fault_missing"] == report["fault_duplicates"] == 0
    assert report["steps_per_s"] > 0 and report["floor_steps_per_s"] > 0
    assert 0 <= report["lag_p50_s"] <= report["lag_p99_s"] <= report["lag_max_s"]
    assert set(report["targets"]) == {
        "actions_per_s",
        "lag_p99_s",
        "lag_max_s",
        "missing",
        "duplicates",
        "fault_missing",
        "fault_duplicates",
    }
