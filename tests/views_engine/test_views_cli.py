"""`medlake views test`: whole output and exit code on small suite folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medlake.cli.main import app
from shared_data import shared_path

runner = CliRunner()
VIEW = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}
RESOURCES = [{"resourceType": "Patient", "id": "p1"}]


def _suite(tmp_path: Path, expect_id: str) -> Path:
    folder = tmp_path / "tests"
    folder.mkdir()
    tests = [{"title": "ids", "view": VIEW, "expect": [{"id": expect_id}]},
             {"title": "bad", "view": {"select": []}, "expectError": True}]  # fmt: skip
    (folder / "mini.json").write_text(json.dumps({"title": "mini", "resources": RESOURCES, "tests": tests}), encoding="utf-8")
    return folder


def test_passing_folder_prints_one_line_per_file_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    res = runner.invoke(app, ["views", "test", str(_suite(tmp_path, "p1")), "--report", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output == f"ok   mini.json: 2/2\npassed 2/2 cases in 1 files\nwrote {out}\n"
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "mini.json": {"tests": [{"name": "ids", "result": {"passed": True}}, {"name": "bad", "result": {"passed": True}}]}
    }


def test_failing_case_is_listed_and_exits_1(tmp_path: Path) -> None:
    res = runner.invoke(app, ["views", "test", str(_suite(tmp_path, "p2"))])
    assert res.exit_code == 1
    assert res.output == (
        "FAIL mini.json: 1/2\n"
        '  failed mini.json · ids: rows differ: expected {"id": "p2"}, got {"id": "p1"}\n'
        "passed 1/2 cases in 1 files\n"
    )


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["views", "test", str(tmp_path)])
    assert res.exit_code == 2
    assert "no *.json test files in" in res.output


@pytest.mark.shared
def test_official_suite_passes_all_144(tmp_path: Path) -> None:
    tests = shared_path("conformance", "sql-on-fhir-v2", "tests")
    res = runner.invoke(app, ["views", "test", str(tests), "--report", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "passed 144/144 cases in 22 files\n" in res.output


@pytest.mark.parametrize("engine", ["sql", "both"])
def test_the_sql_engine_and_both_engines_pass_the_same_folder(tmp_path: Path, engine: str) -> None:
    res = runner.invoke(app, ["views", "test", str(_suite(tmp_path, "p1")), "--engine", engine])
    assert res.exit_code == 0, res.output
    assert res.output == "ok   mini.json: 2/2\npassed 2/2 cases in 1 files\n"


def test_both_engines_name_the_executor_of_each_failure(tmp_path: Path) -> None:
    res = runner.invoke(app, ["views", "test", str(_suite(tmp_path, "p2")), "--engine", "both"])
    assert res.exit_code == 1
    diff = 'rows differ: expected {"id": "p2"}, got {"id": "p1"}'
    assert res.output == f"FAIL mini.json: 1/2\n  failed mini.json · ids: [python] {diff}; [sql] {diff}\npassed 1/2 cases in 1 files\n"


def test_an_unknown_engine_is_an_error_naming_the_choices(tmp_path: Path) -> None:
    res = runner.invoke(app, ["views", "test", str(_suite(tmp_path, "p1")), "--engine", "spark"])
    assert res.exit_code == 2
    assert "unknown engine `spark`; use --engine python, sql or both" in res.output
