"""`python -m bench` as the smoke tests run it: a subprocess, on the database they give it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def bench_run(
    name: str, *args: str, database_url: str | None, timeout: int
) -> subprocess.CompletedProcess[str]:
    """`python -m bench NAME ARGS` from the project directory, on `database_url` when given."""
    database = ["--database-url", database_url] if database_url is not None else []
    return subprocess.run(
        [sys.executable, "-m", "bench", name, *args, *database],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
