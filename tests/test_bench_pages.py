"""`python -m bench pages`: a short run on a throwaway database prints its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benches import bench_run

pytestmark = pytest.mark.bench

PAGES = ("baseline", "article_cached", "article_uncached", "home_cached")


def test_pages_bench_prints_one_json_line_with_figures_and_targets(
    bench_database_url: str,
) -> None:
    # The bench migrates and seeds the database it is given, as a deployment would.
    completed = bench_run(
        "pages", "--duration", "1", "--rounds", "1", database_url=bench_database_url, timeout=180
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
    completed = bench_run("pages", "--duration", "0", database_url=None, timeout=60)

    assert completed.returncode == 2
    assert "--duration" in completed.stderr
    assert completed.stdout == ""


def test_pages_bench_on_an_empty_database_exits_1_with_an_error_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    completed = bench_run("pages", "--skip-setup", database_url=f"sqlite:///{empty}", timeout=60)

    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    assert report["bench"] == "pages"
    assert "run without --skip-setup" in report["error"]
    assert "gunicorn" not in completed.stderr
