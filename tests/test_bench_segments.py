"""`python -m bench segments`: a small run prints its figures."""

from __future__ import annotations

import json

import pytest

from tests.benches import bench_run

pytestmark = pytest.mark.bench


def test_segments_bench_prints_one_json_line_with_figures_and_targets(
    bench_database_url: str,
) -> None:
    # The bench creates a database of its own, for this run, on the server of the one given.
    completed = bench_run(
        "segments",
        *("--size", "2000", "--rounds", "1", "--import-rows", "1000"),
        database_url=bench_database_url,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    report = json.loads(lines[0])
    assert report["bench"] == "segments"
    assert report["size"] == 2000
    assert report["database"] in {"sqlite", "postgresql"}
    assert 10_000 <= report["touchpoints"] <= 30_000
    assert report["segment_conditions"] == 7
    assert 0 < report["segment_members"] < 2000
    assert 0 <= report["nested_members"] <= report["segment_members"]
    for figure in (
        "segment_count_s",
        "segment_materialise_s",
        "nested_count_s",
        "nested_materialise_s",
        "import_job_rows_per_s",
        "import_engine_rows_per_s",
    ):
        assert report[figure] > 0, figure
    for path in ("import_job", "import_engine"):  # staff's path, and the engine alone
        assert report[f"{path}_created"] + report[f"{path}_updated"] == 1000
        assert report[f"{path}_errors"] == 0
    assert report["lifecycle_changed"] > 0
    assert report["personas_changed"] > 0
    assert set(report["targets"]) == {
        "segment_count_s",
        "segment_materialise_s",
        "nested_count_s",
        "nested_materialise_s",
        "import_job_rows_per_s",
    }
    for target in report["targets"].values():
        assert set(target) == {"value", "goal", "met"}
        assert isinstance(target["met"], bool)
