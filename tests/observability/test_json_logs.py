"""`--log-format json` (and `MEDLAKE_LOG_FORMAT=json`): medlake's logs become JSON lines with
counts and ids; a CLI run over data with patient names logs none of them."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from obs_lake import PHI, write_project
from typer.testing import CliRunner

from medlake.cli.main import app
from medlake.errors import ConfigError
from medlake.observability.logs import JsonFormatter, configure_logging, reset_logging

runner = CliRunner()


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    reset_logging()


def _lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_a_cli_run_with_json_logs_gives_parseable_lines_without_phi(tmp_path: Path) -> None:
    write_project(tmp_path)
    res = runner.invoke(app, ["--log-format", "json", "ingest", "-c", str(tmp_path / "medlake.yaml")],
                        env={"MEDLAKE_WORKERS": "1"})
    assert res.exit_code == 0, res.output
    lines = _lines(res.stderr)
    assert lines and all(list(line)[:4] == ["ts", "level", "logger", "msg"] for line in lines)
    steps = [(x["stage"], x["source"], x["status"], x["rows_in"], x["rows_out"], x["quarantined"])
             for x in lines if x["logger"] == "medlake.run"]
    assert steps == [
        ("land", "feed", "ok", 2, 2, 0), ("land", "fhir", "ok", 1, 1, 0),
        ("bronze", "feed", "ok", 2, 3, 1), ("bronze", "fhir", "ok", 1, 0, 1),
        ("run", None, "ok", 4, 4, 2),  # the run's own row: steps logged, steps ok, quarantined in all
    ]
    assert len({x["run_id"] for x in lines if x["logger"] == "medlake.run"}) == 1
    assert str(lines[0]["ts"]).endswith("Z")
    assert [p for p in PHI if p in res.stderr] == []


def test_the_environment_variable_does_the_same(tmp_path: Path) -> None:
    write_project(tmp_path)
    res = runner.invoke(app, ["ingest", "-c", str(tmp_path / "medlake.yaml")],
                        env={"MEDLAKE_WORKERS": "1", "MEDLAKE_LOG_FORMAT": "json"})
    assert res.exit_code == 0, res.output
    assert {x["stage"] for x in _lines(res.stderr) if x["logger"] == "medlake.run"} == {"land", "bronze", "run"}


def test_text_stays_the_default(tmp_path: Path) -> None:
    write_project(tmp_path)
    res = runner.invoke(app, ["ingest", "-c", str(tmp_path / "medlake.yaml")], env={"MEDLAKE_WORKERS": "1"})
    assert res.exit_code == 0, res.output
    assert res.stderr == ""  # info lines are not shown in text mode


def test_a_record_with_an_exception_gives_its_class_only() -> None:
    try:
        raise ValueError("Quigglesworth")
    except ValueError:
        rec = logging.LogRecord("medlake.x", logging.ERROR, __file__, 1, "step %s failed", ("bronze",), None)
        rec.exc_info = sys.exc_info()
    rec.__dict__.update({"run_id": "r1", "rows_out": 3, "where": Path("a")})
    out = json.loads(JsonFormatter().format(rec))
    assert {k: v for k, v in out.items() if k != "ts"} == {
        "level": "error", "logger": "medlake.x", "msg": "step bronze failed", "run_id": "r1", "rows_out": 3,
        "where": "a", "exc_type": "ValueError",
    }


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ConfigError) as e:
        configure_logging("xml")
    assert e.value.message == "log format `xml` is not one of text, json"
    res = runner.invoke(app, ["--log-format", "xml", "status"])
    assert res.exit_code == 2
    assert "'xml' is not one of 'text', 'json'" in res.output
