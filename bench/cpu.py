"""Who used the CPU while a bench ran: processes sampled from `/proc`, and the whole machine.

On a machine shared with other work a rate alone says little; the CPU each party used (the
worker, PostgreSQL's backends, a sink) says what bounded it, and CPU per item compares two
ways of doing the same work even when the machine was busy.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class CpuSampler:
    """CPU seconds each party used while it runs: the processes `parties` name (sampled every
    quarter second, so short-lived ones count from their first sample) and the whole machine."""

    INTERVAL = 0.25

    def __init__(self, parties: Mapping[str, Callable[[], set[int]]]) -> None:
        self.parties = parties
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.elapsed = self.machine = 0.0

    def __enter__(self) -> CpuSampler:
        self._machine_start, self._started = _machine_busy(), time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.elapsed = time.monotonic() - self._started
        self.machine = _machine_busy() - self._machine_start

    def seconds(self) -> dict[str, float]:
        """CPU seconds each party used over the run."""
        used: dict[str, float] = dict.fromkeys(self.parties, 0.0)
        for (party, pid), seconds in self.last.items():
            used[party] += seconds - self.first[party, pid]
        return used

    def cores(self) -> dict[str, float]:
        """Each party's average number of busy cores over the run, and the machine's."""
        elapsed = self.elapsed or 1.0
        shares = {party: round(used / elapsed, 2) for party, used in self.seconds().items()}
        return {**shares, "machine": round(self.machine / elapsed, 2)}

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._sample()

    def _sample(self) -> None:
        for party, pids in self.parties.items():
            with contextlib.suppress(Exception):  # a party whose pids can't be listed now
                for pid in pids():
                    seconds = process_cpu(pid)
                    if seconds is not None:
                        self.first.setdefault((party, pid), seconds)
                        self.last[party, pid] = seconds


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user and system) process `pid` has used so far; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _machine_busy() -> float:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(n) for n in fields]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK  # all but idle and iowait


def group_pids(leader: int) -> set[int]:
    """The processes of a process group (the worker and its pool)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == leader:
                    pids.add(int(entry.name))
    return pids


def marker_pids(marker: str) -> Callable[[], set[int]]:
    """The live processes whose command line contains `marker` (a server and the workers it
    forked share their master's)."""

    def pids() -> set[int]:
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                        found.add(int(entry.name))
        return found

    return pids


def postgres_pids(database_url: str) -> Callable[[], set[int]]:
    """The PostgreSQL backends serving the bench's database (not this sampler's own)."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return set
    import psycopg

    state: dict[str, Any] = {}

    def pids() -> set[int]:
        if "connection" not in state:
            state["connection"] = psycopg.connect(database_url, autocommit=True)
        rows = (
            state["connection"]
            .execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            .fetchall()
        )
        return {row[0] for row in rows}

    return pids
