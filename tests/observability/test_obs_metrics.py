"""Pipeline metrics: backlog from the manifest and progress marks, per-run steps, run history,
records per day and success rate per source, on a tiny lake (obs_lake) and a hand-written run log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from obs_lake import PHI, write_project
from rich.console import Console

from medlake.cli.status import print_status
from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RunLog
from medlake.observability import (
    backlog,
    backlog_objects,
    latest_run_id,
    records_per_day,
    run_history,
    run_steps,
    source_success,
)
from medlake.pipeline import open_lake, run


def _rows(t: object, *cols: str) -> list[tuple[object, ...]]:
    return [tuple(r[c] for c in cols) for r in t.to_pylist()]  # type: ignore[attr-defined]


BACKLOG_COLS = ("source", "landed", "waiting_bronze", "no_parser", "waiting_silver", "backlog", "quarantined_objects")


def test_backlog_follows_objects_from_landing_to_silver(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    lake = open_lake(project, "t")
    assert backlog(lake).num_rows == 0 and backlog_objects(lake).num_rows == 0  # nothing recorded yet

    run(project, "t", ("land",), workers=1)
    assert _rows(backlog(lake), *BACKLOG_COLS) == [("feed", 2, 2, 0, 0, 2, 0), ("fhir", 1, 1, 0, 0, 1, 0)]
    assert backlog(lake).column("oldest_waiting_at").null_count == 0

    run(project, "t", ("bronze",), workers=1)
    # the feed's two files wait for silver; the FHIR file was quarantined whole (not JSON): not backlog
    assert _rows(backlog(lake), *BACKLOG_COLS) == [("feed", 2, 0, 0, 2, 2, 0), ("fhir", 1, 0, 0, 0, 0, 1)]
    objs = backlog_objects(lake, "feed").to_pylist()
    assert [(o["source"], o["state"]) for o in objs] == [("feed", "waiting_silver")] * 2
    assert {o["object_key"].split("/")[0] for o in objs} == {"landing"}
    assert backlog_objects(lake, "fhir").num_rows == 0

    silver_run = run(project, "t", ("silver",), workers=1).run_id
    assert _rows(backlog(lake), *BACKLOG_COLS) == [("feed", 2, 0, 0, 0, 0, 0), ("fhir", 1, 0, 0, 0, 0, 1)]
    assert backlog_objects(lake).num_rows == 0
    # a file whose every record is quarantined is bronzed without bronze rows: nothing waits for silver
    (tmp_path / "feed" / "c.csv").write_text("mrn,family,given,dob\n5,Lee,Ann,2000-07-08,extra\n")
    run(project, "t", ("land", "bronze"), workers=1)
    assert _rows(backlog(lake), *BACKLOG_COLS) == [("feed", 3, 0, 0, 0, 0, 0), ("fhir", 1, 0, 0, 0, 0, 1)]
    run(project, "t", ("silver",), workers=1)

    # the steps of the first silver run and of the latest (nothing left to do), and the per-day totals
    steps = run_steps(lake, silver_run)
    assert _rows(steps, "stage", "source", "rows_in", "rows_out", "quarantined", "status") == [
        ("silver", "feed", 3, 3, 0, "ok"), ("silver", "fhir", 0, 0, 0, "ok"),
    ]
    assert _rows(run_steps(lake), "source", "rows_out") == [("feed", 0), ("fhir", 0)]
    today = datetime.now(UTC).date()
    per_day = records_per_day(lake)
    # feed: a.csv 2 records + b.csv 1 good record (its ragged line is quarantined, as is c.csv's only one)
    assert _rows(per_day, "day", "source", "objects", "bronze_records", "silver_resources", "quarantined") == [
        (today, "feed", 3, 3, 3, 2), (today, "fhir", 1, 0, 0, 1),
    ]
    history = run_history(lake)
    assert _rows(history, "stages", "status", "failed_steps") == [
        ("silver", "ok", 0), ("bronze,land", "ok", 0), ("silver", "ok", 0), ("bronze", "ok", 0), ("land", "ok", 0),
    ]
    assert latest_run_id(lake) == history.column("run_id")[0].as_py()
    # metrics are counts and ids: no data value of the feed anywhere
    text = repr([t.to_pylist() for t in (steps, per_day, history, backlog(lake), source_success(lake))])
    assert not [p for p in PHI if p in text]


def _log_run(lake: TenantLake, run_id: str, fail_source: str | None) -> None:
    log = RunLog(lake, run_id)
    for source in ("ehr", "lab"):
        try:
            with log.step("bronze", source, f"bronze/{source}__*") as step:
                step.rows_in, step.rows_out = 1, 10
                if source == fail_source:
                    raise ValueError("boom")
        except ValueError:
            pass
    log.finish()


def test_success_rate_per_source_and_run_status(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path / "lake"), "t")
    _log_run(lake, "r1", None)
    _log_run(lake, "r2", "lab")
    _log_run(lake, "r3", None)
    got = _rows(source_success(lake), "source", "runs", "ok", "failed", "success_rate", "last_status")
    assert got == [("ehr", 3, 3, 0, 1.0, "ok"), ("lab", 3, 2, 1, 0.6667, "ok")]
    by_day = source_success(lake, by_day=True)
    assert by_day.column("day").to_pylist() == [datetime.now(UTC).date()] * 2
    # the run's own row (RunLog.finish) gives its status; its steps are listed without it
    assert _rows(run_history(lake), "run_id", "status", "steps", "failed_steps") == [
        ("r3", "ok", 2, 0), ("r2", "failed", 2, 1), ("r1", "ok", 2, 0),
    ]
    steps = run_steps(lake, "r2")
    assert _rows(steps, "source", "status", "message") == [("ehr", "ok", None), ("lab", "failed", "ValueError")]
    # records per day count only the ok steps
    assert _rows(records_per_day(lake), "source", "bronze_records") == [("ehr", 30), ("lab", 20)]


def test_finish_rejects_an_unknown_status(tmp_path: Path) -> None:
    log = RunLog(TenantLake.open(str(tmp_path / "lake"), "t"), "r1")
    with pytest.raises(ValueError) as e:
        log.finish("done")
    assert str(e.value) == "run status `done` is not one of ok, failed, blocked, skipped"


def test_finish_status_defaults_to_the_worst_step(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path / "lake"), "t")
    log = RunLog(lake, "r1")
    with log.step("gold", None, "gold.a") as step:
        step.status = "blocked"
    with log.step("gold", None, "gold.b"):
        pass
    rec = log.finish()
    assert (rec.stage, rec.status, rec.rows_in, rec.rows_out) == ("run", "blocked", 2, 1)
    assert _rows(run_history(lake), "status", "steps", "blocked_steps") == [("blocked", 2, 1)]


def test_status_shows_backlog_and_success_rate(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    run(project, "t", ("land", "bronze"), workers=1)
    console = Console(width=200, record=True, color_system=None)
    print_status(console, project, "t")
    text = console.export_text()
    header = next(line for line in text.splitlines() if "source" in line)
    assert "backlog" in header and "runs ok" in header
    feed = next(line for line in text.splitlines() if line.startswith("│ feed "))
    cells = [c.strip() for c in feed.strip("│").split("│")]
    assert cells[0] == "feed" and cells[-2:] == ["2", "100% of 1"]
