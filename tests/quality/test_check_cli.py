"""`medlake check`: the failures with their sentences and queries, exit codes, --json, --list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from check_lake import tiny_lake
from typer.testing import CliRunner

from medlake.cli.main import app

runner = CliRunner()

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
  - id: t.encounter_patient
    table: views.encounter
    kind: relationship
    column: patient_id
    to: views.patient.id
    category: conformance
    subject: encounters
  - id: t.broken
    table: views.patient
    kind: sql
    sql: select * from views.patient where cast(gender as integer) = 1
    category: conformance
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tiny_lake(tmp_path, CHECKS)
    monkeypatch.setattr("medlake.lake.runlog.new_run_id", lambda: "20260101T000000Z-test")
    return tmp_path / "medlake.yaml"


def test_check_prints_the_failures_and_exits_1_on_an_error_severity_failure(config: Path) -> None:
    res = runner.invoke(app, ["check", "-c", str(config), "--only", "t.*"])
    assert res.exit_code == 1
    assert res.output == (
        "run 20260101T000000Z-test · tenant t · 3 checks (4 results): 0 pass, 3 fail, 0 not applicable, 1 error; "
        "1 marts blocked\n"
        "FAIL t.birth_date [error] · ehr\n"
        "  `birth_date` is missing in 33.3% of ehr patients (1 / 3)\n"
        "  query: select * from views.patient where birth_date is null and source = 'ehr'\n"
        "FAIL t.birth_date [error] · lab\n"
        "  `birth_date` is missing in 50% of lab patients (1 / 2)\n"
        "  query: select * from views.patient where birth_date is null and source = 'lab'\n"
        "FAIL t.encounter_patient [warn]\n"
        "  `patient_id` points to no `views.patient.id` in 25% of encounters (1 / 4)\n"
        "  query: select * from views.encounter where patient_id is not null and patient_id not in "
        "(select id from views.patient where id is not null)\n"
        "ERROR t.broken [warn]\n"
        "  the check could not run: ConversionException\n"
        "blocks gold.patient_360: t.birth_date\n"
    )


def test_only_warnings_exit_0(config: Path) -> None:
    res = runner.invoke(app, ["check", "-c", str(config), "--only", "t.encounter_patient"])
    assert res.exit_code == 0
    assert res.output.splitlines()[0] == (
        "run 20260101T000000Z-test · tenant t · 1 checks (1 results): 0 pass, 1 fail, 0 not applicable, 0 error; "
        "0 marts blocked"
    )


def test_json_gives_every_result(config: Path) -> None:
    res = runner.invoke(app, ["check", "-c", str(config), "--only", "t.encounter_patient", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.output) == {
        "run_id": "20260101T000000Z-test",
        "tenant": "t",
        "counts": {"pass": 0, "fail": 1, "not_applicable": 0, "error": 0},
        "blocked": {},
        "results": [{
            "check_id": "t.encounter_patient", "table": "views.encounter", "source": None,
            "category": "conformance", "dimension": "conformance", "severity": "warn", "status": "fail",
            "failing": 1, "total": 4, "threshold_pct": 0.0,
            "sentence": "`patient_id` points to no `views.patient.id` in 25% of encounters (1 / 4)",
            "query": "select * from views.encounter where patient_id is not null and patient_id not in "
                     "(select id from views.patient where id is not null)",
            "blocks": [],
        }],
    }


def test_list_and_unknown_id(config: Path) -> None:
    res = runner.invoke(app, ["check", "-c", str(config), "--list", "--only", "t.*"])
    assert res.exit_code == 0
    assert res.output == (
        "t.birth_date  views.patient  not_null  error blocks patient_360  (test.yaml)\n"
        "t.encounter_patient  views.encounter  relationship  warn  (test.yaml)\n"
        "t.broken  views.patient  sql  warn  (test.yaml)\n"
    )
    res = runner.invoke(app, ["check", "-c", str(config), "--only", "t.brokn"])
    assert res.exit_code == 2
    assert "no check has the id `t.brokn`; did you mean `t.broken`?" in res.output
