"""The benchmark harness: `python -m bench` runs, reports one JSON line, and counts errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.harness import at_least, at_most, database_vendor, result_line
from bench.loadgen import parse_wrk_output, python_load
from tests.benches import bench_run

WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8000/es/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.73ms   20.10ms   1.20s    97.51%
    Req/Sec     1.10k   100.00     1.20k    80.00%
  Latency Distribution
     50%  850.00us
     75%    4.12ms
     90%    9.00ms
     99%    1.20s
  1100 requests in 1.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:   1098.50
Transfer/sec:     20.00MB
Non-200 responses: 4
"""


class _StatusHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 404
        self.send_response(status)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def status_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.bench
def test_http_bench_prints_one_json_line_with_figures_and_targets(bench_database_url: str) -> None:
    completed = bench_run(
        "http", "--duration", "1", "--rounds", "1", database_url=bench_database_url, timeout=120
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[-1])
    assert report["bench"] == "http"
    assert report["baseline_rps"] > 0
    assert report["home_cached_rps"] > 0
    assert report["home_uncached_rps"] > 0
    assert "home_rps" not in report  # a cache hit is never reported as the home page itself
    assert report["errors"] == 0
    assert report["load_generator"] in {"wrk", "python"}
    assert set(report["targets"]) == {
        "home_cached_vs_baseline",
        "home_cached_p99_ms",
        "home_uncached_p99_ms",
    }
    for target in report["targets"].values():
        assert set(target) == {"value", "goal", "met"}
        assert isinstance(target["met"], bool)


@pytest.mark.bench
def test_unknown_bench_exits_2_and_lists_the_available_ones() -> None:
    completed = bench_run("nosuch", database_url=None, timeout=60)

    assert completed.returncode == 2
    assert "http" in completed.stderr
    assert completed.stdout == ""


def test_wrk_figures_are_read_in_milliseconds_and_every_failure_is_an_error() -> None:
    result = parse_wrk_output(WRK_OUTPUT)

    assert result.requests == 1100
    assert result.rps == 1098.5
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    # 3 socket errors plus 4 answers other than 200 (the script's count, not wrk's own).
    assert result.errors == 7


def test_python_load_generator_counts_answers_other_than_200_as_errors(
    status_server: str,
) -> None:
    healthy = python_load(f"{status_server}/ok", duration=0.5, connections=2)
    broken = python_load(f"{status_server}/missing", duration=0.5, connections=2)

    assert healthy.requests > 0
    assert healthy.errors == 0
    assert healthy.p99_ms >= healthy.p50_ms > 0
    assert broken.requests > 0
    assert broken.errors == broken.requests


def test_result_line_reports_whether_each_target_is_met() -> None:
    line = result_line(
        "http",
        {"home_rps": 400.0},
        {"home_vs_baseline": at_least(0.4, 0.5), "home_p99_ms": at_most(120.0, 250.0)},
    )

    assert json.loads(line) == {
        "bench": "http",
        "home_rps": 400.0,
        "targets": {
            "home_vs_baseline": {"value": 0.4, "goal": 0.5, "met": False},
            "home_p99_ms": {"value": 120.0, "goal": 250.0, "met": True},
        },
    }


@pytest.mark.parametrize(
    ("database_url", "vendor"),
    [
        ("", "sqlite"),
        ("sqlite:////tmp/bench.sqlite3", "sqlite"),
        ("postgres://inbound:secret@127.0.0.1:5432/inbound", "postgresql"),
    ],
)
def test_database_vendor_is_named_from_the_database_url(database_url: str, vendor: str) -> None:
    assert database_vendor(database_url) == vendor
