"""`medlake ml train|score` argument handling and errors (no model is trained here)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from medlake.cli.main import app


def test_train_without_gold_names_the_missing_database(tmp_path: Path) -> None:
    (tmp_path / "acme" / "silver").mkdir(parents=True)
    res = CliRunner().invoke(app, ["ml", "train", "--lake", str(tmp_path)], terminal_width=400)
    assert res.exit_code == 2
    db = tmp_path.resolve() / "acme" / "gold" / "gold.duckdb"
    assert res.output == f"error: no gold database at `{db}`; build gold first (`medlake run` or `medlake demo`)\n"


def test_unknown_model(tmp_path: Path) -> None:
    (tmp_path / "acme" / "silver").mkdir(parents=True)
    res = CliRunner().invoke(app, ["ml", "score", "--lake", str(tmp_path), "--model", "sepsis"], terminal_width=400)
    assert res.exit_code == 2
    assert res.output == "error: unknown model `sepsis`; use one of readmission, diabetes, ed\n"
