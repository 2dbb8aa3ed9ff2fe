"""HTTP load generators: wrk when installed, else a small multiprocessing one in Python.

Both hold `connections` connections open against one URL for `duration` seconds and report
throughput, latency percentiles and errors: any answer other than 200, and socket errors.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import BenchError, die_with_parent, percentile

WRK_TIMEOUT = "5s"  # a request slower than this counts as a socket error
PYTHON_TIMEOUT = 5.0

# wrk itself only counts answers outside 2xx/3xx; a redirect would pass unnoticed. This script
# counts every status other than 200 (one thread, so no aggregation races).
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("non200") end
  io.write(string.format("Non-200 responses: %d\\n", total))
end
"""

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_LINE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS_LINE = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_RPS_LINE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_NON_200 = re.compile(r"^Non-200 responses: (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def available_generator(preference: str) -> str:
    """Which generator to use, "wrk" or "python", for a preference of "auto", "wrk" or "python"."""
    if preference == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if preference == "wrk":
        raise BenchError("--load-generator=wrk but wrk is not on PATH")
    return "python"


def generate_load(generator: str, url: str, *, duration: int, connections: int) -> LoadResult:
    if generator == "wrk":
        return wrk_load(url, duration=duration, connections=connections)
    return python_load(url, duration=duration, connections=connections)


# --- wrk -------------------------------------------------------------------------------------


def parse_wrk_output(output: str) -> LoadResult:
    """Figures from the text `wrk --latency -s <WRK_SCRIPT>` prints."""
    latencies = {
        quantile: float(number) * _UNIT_MS[unit]
        for quantile, number, unit in _LATENCY_LINE.findall(output)
    }
    requests = _REQUESTS_LINE.search(output)
    rps = _RPS_LINE.search(output)
    if requests is None or rps is None or set(latencies) != {"50", "99"}:
        raise BenchError(f"unexpected wrk output:\n{output}")
    socket_errors = _SOCKET_ERRORS.search(output)
    non_200 = _NON_200.search(output)
    errors = sum(int(count) for count in socket_errors.groups()) if socket_errors else 0
    errors += int(non_200.group(1)) if non_200 else 0
    return LoadResult(
        requests=int(requests.group(1)),
        errors=errors,
        rps=float(rps.group(1)),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
    )


def wrk_load(url: str, *, duration: int, connections: int) -> LoadResult:
    # One thread: on a small machine the load generator must not starve the server it measures.
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = Path(folder) / "status.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        command = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            f"--timeout={WRK_TIMEOUT}",
            "--latency",
            f"--script={script}",
            url,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
    if completed.returncode != 0:
        raise BenchError(f"wrk exited with {completed.returncode}: {completed.stderr.strip()}")
    return parse_wrk_output(completed.stdout)


# --- Python fallback -------------------------------------------------------------------------


def _python_worker(
    url: str, duration: float, start: Event, results: Queue[tuple[list[float], int]]
) -> None:
    # The parent handles Ctrl-C and stops the workers; a traceback from each would be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    connection = http.client.HTTPConnection(parts.netloc, timeout=PYTHON_TIMEOUT)
    latencies: list[float] = []
    errors = 0
    start.wait()
    deadline = time.perf_counter() + duration
    while (sent_at := time.perf_counter()) < deadline:
        try:
            # http.client keeps the connection alive and reopens it after "Connection: close".
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        latencies.append((time.perf_counter() - sent_at) * 1000.0)
        if response.status != 200:
            errors += 1
    connection.close()
    results.put((latencies, errors))


def python_load(url: str, *, duration: float, connections: int) -> LoadResult:
    """One process per connection, each sending requests back to back for `duration` seconds."""
    context = multiprocessing.get_context()
    start = context.Event()
    results: Queue[tuple[list[float], int]] = context.Queue()
    workers = [
        context.Process(target=_python_worker, args=(url, duration, start, results), daemon=True)
        for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    try:
        start.set()
        # Read before joining: a worker cannot exit while its result sits in the pipe.
        collected = [results.get(timeout=duration + 60) for _ in workers]
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                with contextlib.suppress(Exception):
                    worker.join(timeout=5)
    latencies = [latency for worker_latencies, _ in collected for latency in worker_latencies]
    errors = sum(worker_errors for _, worker_errors in collected)
    if not latencies:
        return LoadResult(requests=0, errors=errors, rps=0.0, p50_ms=0.0, p99_ms=0.0)
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        rps=len(latencies) / duration,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
    )
