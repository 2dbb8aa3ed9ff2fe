"""`python -m bench submissions`: a short run prints its one JSON line; bad options exit 2."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.benches import bench_run

pytestmark = pytest.mark.bench


def _bench(*args: str, database_url: str | None, timeout: int) -> subprocess.CompletedProcess[str]:
    # The bench starts its own Redis, SMTP sink, Celery worker and gunicorn.
    return bench_run("submissions", *args, database_url=database_url, timeout=timeout)


def test_submissions_bench_prints_one_json_line_with_figures_and_targets(
    bench_database_url: str,
) -> None:
    completed = _bench(
        "--duration", "3", "--outage", "1", database_url=bench_database_url, timeout=400
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert report["bench"] == "submissions"
    assert report["database"] in {"sqlite", "postgresql"}
    assert report["accepted"] > 0
    assert report["requests"] == report["accepted"] + report["rejected"] + report["failed"]
    assert report["stored"] == report["accepted"] and report["lost"] == 0
    assert report["unexplained_stored"] == 0
    assert report["baseline_rps"] > 0
    assert report["floor_rps"] > 0 and report["floor_errors"] == 0
    assert report["submissions_vs_floor"] > 0
    assert report["submissions_p99_ms"] >= report["submissions_p50_ms"] > 0
    assert report["relay_drain_s"] >= 0 and report["relay_unapplied"] == 0
    assert report["optin_emails"] == report["stored"]
    assert report["relay_backlog"] == 900  # the goal's 300/s for the 3 s of the run
    assert report["relay_backlog_unapplied"] == report["relay_backlog_emails_missing"] == 0
    assert report["sink"] in {"smtp-sink", "aiosmtpd"}
    assert report["worker_niceness"] == 10
    # Who used the CPU, per accepted answer: the web in both phases, the relay and the sink
    # only when there were e-mails to send (the floor stores nothing for them).
    for phase in ("floor", "submissions"):
        assert report[f"{phase}_web_cpu_ms"] > 0
        assert 0 < report[f"{phase}_busy_cores"] <= (os.cpu_count() or 1) + 0.5
    assert report["submissions_relay_cpu_ms"] > 0 and report["submissions_sink_cpu_ms"] > 0
    assert report["floor_sink_cpu_ms"] == 0
    if report["database"] == "postgresql":
        assert report["submissions_database_cpu_ms"] > 0
        assert report["database_autovacuum"] in {"on", "off"}
    for name in ("outage_accepted", "outage_stored", "outage_optin_emails", "outage_lost"):
        assert isinstance(report[name], int), name
    assert set(report["targets"]) == {
        "submissions_rps",
        "submissions_vs_floor",
        "submissions_p99_ms",
        "failed",
        "floor_errors",
        "lost",
        "relay_drain_s",
        "relay_backlog_drain_s",
        "outage_failed",
        "outage_lost",
        "outage_emails_missing",
    }
    for target in report["targets"].values():
        assert set(target) == {"value", "goal", "met"}


def test_an_outage_as_long_as_the_run_is_refused_with_exit_2() -> None:
    completed = _bench("--duration", "5", "--outage", "5", database_url=None, timeout=60)

    assert completed.returncode == 2
    assert "--outage" in completed.stderr
    assert completed.stdout == ""
