"""`python -m bench pages`: a short run on the configured database prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

PAGES = ("baseline", "article_cached", "article_uncached", "home_cached")


def test_pages_bench_prints_one_json_line_with_figures_and_targets() -> None:
    # The bench uses the configured database (DATABASE_URL, else the SQLite file under var/),
    # not pytest-django's test database: it migrates and seeds it as a deployment would.
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "pages", "--duration", "1", "--rounds", "1"],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert report["bench"] == "pages"
    assert report["database"] in {"sqlite", "postgresql"}
    assert report["load_generator"] in {"wrk", "python"}
    assert report["article_path"].startswith("/es/noticias/")
    for page in PAGES:
        assert report[f"{page}_rps"] > 0, page
        assert report[f"{page}_p99_ms"] >= report[f"{page}_p50_ms"] > 0, page
    for page in PAGES[1:]:
        assert report[f"{page}_vs_baseline"] > 0, page
    assert report["article_uncached_queries"] >= 1
    assert report["errors"] == 0
    assert set(report["targets"]) == {
        "article_cached_vs_baseline",
        "article_uncached_vs_baseline",
        "article_uncached_queries",
    }
    for target in report["targets"].values():
        assert set(target) == {"value", "goal", "met"}
        assert isinstance(target["met"], bool)


def test_pages_bench_rejects_bad_options_with_exit_2() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "pages", "--duration", "0"],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2
    assert "--duration" in completed.stderr
    assert completed.stdout == ""


def test_pages_bench_on_an_empty_database_exits_1_with_an_error_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "pages",
            "--skip-setup",
            "--database-url",
            f"sqlite:///{empty}",
        ],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    assert report["bench"] == "pages"
    assert "run without --skip-setup" in report["error"]
    assert "gunicorn" not in completed.stderr
