"""A failed error-severity check stops the gold marts it names and everything downstream of
them, while the other marts build; the run log, RunSummary and CLI summary say which check
stopped what. Uses the hand-written silver lake of tests/gold (gold_silver_fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from check_lake import write_project
from rich.console import Console

from gold.gold_silver_fixture import write_silver
from medlake.cli.output import summary_tables
from medlake.lake.catalog import connect
from medlake.pipeline import RunSummary, open_lake, run

pytestmark = pytest.mark.slow

BLOCKING = """\
checks:
  - id: feed.patients.row_count
    table: views.patient
    kind: row_count
    min: 1000
    category: completeness
    severity: error
    subject: patients
    blocks: [readmission_stays]
    description: the feed contract promises at least 1,000 patients
"""
# kpi_executive reads readmission_summary: it is held back too
READMISSION_DOWNSTREAM = ["kpi_executive", "readmission_by_condition", "readmission_by_facility", "readmission_by_payer", "readmission_summary"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, RunSummary]:
    root = tmp_path_factory.mktemp("blocking")
    project = write_project(root, BLOCKING)
    write_silver(root / "lake" / "t")
    return project, run(project, "t", stages=("check", "gold"), workers=1)


def test_the_blocked_mart_and_its_downstream_are_not_built(built: tuple[Any, RunSummary]) -> None:
    _project, summary = built
    check, gold = summary.stage("check"), summary.stage("gold")
    assert check is not None and gold is not None
    assert check.details["blocked"] == {"readmission_stays": ["feed.patients.row_count"]}
    assert gold.details["blocked"] == {
        "readmission_stays": {"checks": ["feed.patients.row_count"], "downstream": READMISSION_DOWNSTREAM}
    }
    marts = gold.details["marts"]
    for name in ["readmission_stays", *READMISSION_DOWNSTREAM]:
        assert name not in marts
    assert {"patient_360", "dim_patient", "fct_encounters", "quality_measure_results"} <= set(marts)
    # the views were built once, by the check stage, and gold reports them as before
    assert gold.details["views"] == check.details["views"]
    assert check.details["views"]["patient"] > 0


def test_run_log_names_the_check_that_stopped_each_mart(built: tuple[Any, RunSummary]) -> None:
    project, summary = built
    con = connect(open_lake(project, "t"), gold=False)
    rows = con.execute(
        "select stage, table_name, status, message from meta.runs where run_id = ? and status = 'blocked' and stage <> 'run' "
        "order by table_name", [summary.run_id]
    ).fetchall()
    views_steps = con.execute(
        "select stage, count(*) from meta.runs where run_id = ? and stage in ('views', 'check') group by 1 order by 1",
        [summary.run_id],
    ).fetchall()
    con.close()
    assert rows == [
        ("gold", "gold.kpi_executive", "blocked",
         "downstream of gold.readmission_stays, blocked by check(s) feed.patients.row_count"),
        ("gold", "gold.readmission_by_condition", "blocked",
         "downstream of gold.readmission_stays, blocked by check(s) feed.patients.row_count"),
        ("gold", "gold.readmission_by_facility", "blocked",
         "downstream of gold.readmission_stays, blocked by check(s) feed.patients.row_count"),
        ("gold", "gold.readmission_by_payer", "blocked",
         "downstream of gold.readmission_stays, blocked by check(s) feed.patients.row_count"),
        ("gold", "gold.readmission_stays", "blocked", "blocked by check(s) feed.patients.row_count"),
        ("gold", "gold.readmission_summary", "blocked",
         "downstream of gold.readmission_stays, blocked by check(s) feed.patients.row_count"),
    ]
    assert dict(views_steps)["check"] == 1


def test_cli_summary_says_which_check_stopped_what(built: tuple[Any, RunSummary]) -> None:
    _project, summary = built
    console = Console(width=250, record=True)
    for t in summary_tables(summary):
        console.print(t)
    text = console.export_text()
    assert "gold marts not built: stopped by a failed error-severity check" in text
    line = next(x for x in text.splitlines() if "gold.readmission_stays" in x)
    assert "feed.patients.row_count" in line
    assert "gold.readmission_summary" in line
    assert "`views.patient` has 3 patients (expected at least 1,000)" in text


def test_gold_alone_builds_its_views_and_every_mart(built: tuple[Any, RunSummary]) -> None:
    project, _summary = built
    summary = run(project, "t", stages=("gold",), workers=1)
    gold = summary.stage("gold")
    assert gold is not None and "blocked" not in gold.details
    assert gold.details["views"]["patient"] > 0
    assert {"readmission_stays", *READMISSION_DOWNSTREAM} <= set(gold.details["marts"])
