"""CLI commands: whole outputs asserted where they are stable."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from medlake.cli.main import app
from medlake.config import load_config
from medlake.lake import delta
from medlake.lake.paths import TenantLake

runner = CliRunner()


def test_init_writes_a_valid_commented_config(tmp_path: Path) -> None:
    res = runner.invoke(app, ["init", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert res.output == f"wrote {tmp_path / 'medlake.yaml'}\n"
    text = (tmp_path / "medlake.yaml").read_text()
    assert text.count("#") > 10
    assert load_config(tmp_path / "medlake.yaml").tenants[0].name == "acme"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "medlake.yaml").write_text("lake: x\n")
    res = runner.invoke(app, ["init", str(tmp_path)])
    assert res.exit_code == 2
    assert "medlake.yaml exists; use --force to overwrite it" in res.output.replace("\n", "")


def _small_lake(tmp_path: Path) -> Path:
    lake = TenantLake.open(str(tmp_path / "lake"), "acme")
    delta.append(lake.silver("Patient"), pa.table({"id": ["p1", "p2"], "gender": ["female", "male"]}))
    return tmp_path / "lake"


def test_sql_formats(tmp_path: Path) -> None:
    root = _small_lake(tmp_path)
    q = "select id, gender from silver.patient order by id"
    res = runner.invoke(app, ["sql", "--lake", str(root), "--format", "csv", q])
    assert res.exit_code == 0, res.output
    assert res.output == "id,gender\np1,female\np2,male\n"
    res = runner.invoke(app, ["sql", "--lake", str(root), "-f", "json", q])
    assert res.output == (
        '[\n  {\n    "id": "p1",\n    "gender": "female"\n  },\n  {\n    "id": "p2",\n    "gender": "male"\n  }\n]\n'
    )


def test_sql_error_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    root = _small_lake(tmp_path)
    res = runner.invoke(app, ["sql", "--lake", str(root), "select nope from silver.patient"])
    assert res.exit_code == 2
    assert res.output.startswith("error: Binder Error: Referenced column \"nope\" not found")
    assert "Traceback" not in res.output


def test_missing_config_is_reported(tmp_path: Path) -> None:
    res = runner.invoke(app, ["status", "--config", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2
    assert "not found" in res.output and "medlake init" in res.output
