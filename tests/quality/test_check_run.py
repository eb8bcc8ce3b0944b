"""`run_checks` on a tiny lake: results in `_meta/check_results`, re-runs replace their rows,
blocking, and the scores per source and dimension over runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from check_lake import tiny_lake

from medlake.errors import ConfigError
from medlake.lake.catalog import connect
from medlake.quality import run_checks, score_trend, scores

CHECKS = """\
checks:
  - id: t.birth_date
    table: views.patient
    kind: not_null
    column: birth_date
    by: source
    category: completeness
    severity: error
    subject: patients
    blocks: [patient_360]
  - id: t.gender
    table: views.patient
    kind: accepted_values
    column: gender
    values: [male, female]
    by: source
    category: conformance
    subject: patients
  - id: t.encounter_patient
    table: views.encounter
    kind: relationship
    column: patient_id
    to: views.patient.id
    category: conformance
    subject: encounters
  - id: t.claims
    table: views.claim
    kind: not_null
    column: id
    category: completeness
"""
T1 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def test_results_are_stored_and_a_rerun_replaces_them(tmp_path: Path) -> None:
    project, lake = tiny_lake(tmp_path, CHECKS)
    report = run_checks(project, "t", run_id="run-1", only=["t.*"], now=T1)
    got = [(r.check_id, r.group, r.status, r.failing, r.total) for r in report.results]
    assert got == [
        ("t.birth_date", "ehr", "fail", 1, 3),
        ("t.birth_date", "lab", "fail", 1, 2),
        ("t.gender", "ehr", "pass", 0, 3),
        ("t.gender", "lab", "fail", 1, 2),
        ("t.encounter_patient", None, "fail", 1, 4),
        ("t.claims", None, "not_applicable", 0, 0),
    ]
    assert report.blocked == {"patient_360": ["t.birth_date"]}
    assert report.counts() == {"pass": 1, "fail": 4, "not_applicable": 1, "error": 0}
    assert report.summary_line() == "4 checks (6 results): 1 pass, 4 fail, 1 not applicable, 0 error; 1 marts blocked"

    run_checks(project, "t", run_id="run-1", only=["t.*"], now=T1)  # the same run again: replaced, not doubled
    con = connect(lake, gold=False)
    stored = con.execute(
        "select run_id, tenant, check_id, source, status, failing_rows, total_rows, blocks, checked_at "
        "from meta.check_results order by check_id, source"
    ).fetchall()
    con.close()
    assert len(stored) == 6
    assert stored[0] == ("run-1", "t", "t.birth_date", "ehr", "fail", 1, 3, ["patient_360"], T1)


def test_only_names_an_unknown_id(tmp_path: Path) -> None:
    project, _lake = tiny_lake(tmp_path, CHECKS)
    with pytest.raises(ConfigError) as e:
        run_checks(project, "t", only=["t.birth_dat"])
    assert e.value.message == "no check has the id `t.birth_dat`; did you mean `t.birth_date`? (`medlake check --list` shows them)"


def test_scores_per_source_and_dimension_and_their_trend(tmp_path: Path) -> None:
    project, lake = tiny_lake(tmp_path, CHECKS)
    assert scores(lake).num_rows == 0  # no results yet
    run_checks(project, "t", run_id="run-1", only=["t.*"], now=T1)
    run_checks(project, "t", run_id="run-2", only=["t.gender", "t.claims"], now=T2)
    latest = scores(lake).to_pylist()
    assert [(r["run_id"], r["source"], r["dimension"], r["passed"], r["failed"], r["not_applicable"], r["score"])
            for r in latest] == [
        ("run-2", "(all)", "completeness", 0, 0, 1, None),
        ("run-2", "ehr", "conformance", 1, 0, 0, 100.0),
        ("run-2", "lab", "conformance", 0, 1, 0, 0.0),
    ]
    first = scores(lake, run_id="run-1").to_pylist()
    assert {(r["source"], r["dimension"]): r["score"] for r in first} == {
        ("(all)", "completeness"): None,
        ("(all)", "conformance"): 0.0,
        ("ehr", "completeness"): 0.0,
        ("ehr", "conformance"): 100.0,
        ("lab", "completeness"): 0.0,
        ("lab", "conformance"): 0.0,
    }
    trend = score_trend(lake, "ehr", "conformance").to_pylist()
    assert [(r["run_id"], r["checked_at"], r["score"]) for r in trend] == [("run-1", T1, 100.0), ("run-2", T2, 100.0)]
    con = connect(lake, gold=False)
    assert score_trend(con, last_runs=1).column("run_id").to_pylist() == ["run-2"] * 3  # a connection works too
    con.close()
