"""Pieces every bench shares: options, the result line, targets and small statistics.

A bench prints progress for people on stderr and exactly one JSON line on stdout at the end, so
scripts and CI read results with `tail -n 1`. See bench/README.md for the conventions.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import math
import os
import signal
import socket
import statistics
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent

Figure = str | int | float | bool | None

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class BenchError(Exception):
    """The bench could not produce a measurement (setup failed, server did not start...)."""


@dataclass(frozen=True)
class Target:
    """A figure compared with its goal; `higher_is_better` says which side of the goal is met."""

    value: float
    goal: float
    higher_is_better: bool = True

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def as_dict(self) -> dict[str, Figure]:
        return {"value": self.value, "goal": self.goal, "met": self.met}


def at_least(value: float, goal: float) -> Target:
    return Target(value=value, goal=goal, higher_is_better=True)


def at_most(value: float, goal: float) -> Target:
    return Target(value=value, goal=goal, higher_is_better=False)


@dataclass
class Report:
    """What a bench measured. `failed` makes the bench exit 1 after printing its line."""

    figures: dict[str, Figure]
    targets: dict[str, Target] = field(default_factory=dict)
    failed: bool = False


# --- Output ----------------------------------------------------------------------------------


def progress(message: str) -> None:
    """A line for the person watching; stdout is reserved for the result line."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def result_line(bench: str, figures: Mapping[str, Figure], targets: Mapping[str, Target]) -> str:
    payload: dict[str, Any] = {"bench": bench, **figures}
    payload["targets"] = {name: target.as_dict() for name, target in targets.items()}
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


def emit(bench: str, figures: Mapping[str, Figure], targets: Mapping[str, Target]) -> None:
    """Print the one JSON result line on stdout."""
    print(result_line(bench, figures, targets), flush=True)


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(bench: str, measure: Callable[[], Report]) -> int:
    """Run `measure`, print its result line and return the process exit code.

    0: measured (targets may or may not be met: read `met`); 1: the bench failed, and its line
    carries an `error` or the bench's own failure figures; 130: interrupted, no line.
    SIGTERM is turned into KeyboardInterrupt so that cleanup (stopping servers) always runs.
    """
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        report = measure()
    except BenchError as error:
        progress(f"failed: {error}")
        emit(bench, {"error": str(error)}, {})
        return 1
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    emit(bench, report.figures, report.targets)
    for name, target in report.targets.items():
        verdict = "met" if target.met else "NOT met"
        relation = ">=" if target.higher_is_better else "<="
        progress(f"target {name}: {target.value} {relation} {target.goal}: {verdict}")
    return 1 if report.failed else 0


# --- Options ---------------------------------------------------------------------------------


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def parser_for(bench: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"python -m bench {bench}", description=description)


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    """`--database-url`: the database the bench runs against, the configured one by default."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="database URL as in DATABASE_URL (default: $DATABASE_URL, else the SQLite file "
        "under var/)",
    )


def add_size_argument(parser: argparse.ArgumentParser, *, default: int, unit: str) -> None:
    """`--size N`: how many of the bench's main items (rows, contacts, messages) it works on."""
    parser.add_argument(
        "--size",
        type=positive_int,
        default=default,
        metavar="N",
        help=f"number of {unit} to work on (default: {default})",
    )


def database_vendor(database_url: str) -> str:
    """Django's vendor name for a DATABASE_URL ("" means the default SQLite file)."""
    if not database_url:
        return "sqlite"
    import dj_database_url

    engine = dj_database_url.parse(database_url)["ENGINE"].rsplit(".", 1)[-1]
    return {"sqlite3": "sqlite"}.get(engine, engine)


def database_maintained(database_url: str) -> str:
    """Do what PostgreSQL's autovacuum does when the server runs without it; its setting.

    Production servers run autovacuum (PostgreSQL's default), which keeps the planner's
    statistics and the visibility map of busy tables current. A machine whose server has it
    off plans every query on a table it never analyzed as if an IN list matched half the rows:
    a bench there would measure sequential scans no deployment makes. So, with autovacuum off,
    the bench database gets one VACUUM ANALYZE before the load, and the result says so.
    """
    if database_vendor(database_url) != "postgresql":
        return ""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SHOW autovacuum").fetchone()
        setting = str(row[0]) if row else ""
        if setting == "off":
            progress("the server runs without autovacuum: VACUUM ANALYZE of the bench database")
            connection.execute("VACUUM ANALYZE")
    return setting


# --- Statistics and sockets ------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    items = list(values)
    if not items:
        raise ValueError("median of no values")
    return statistics.median(items)


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in [0, 1]), as load generators report it."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def die_with_parent() -> None:
    """Have the kernel stop this process when its parent dies (Linux; elsewhere a no-op).

    For children of a bench (servers, load workers): if the bench is killed outright (SIGKILL,
    a test timeout), they must not stay behind holding CPU and ports.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it; the window for a race is tiny)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
