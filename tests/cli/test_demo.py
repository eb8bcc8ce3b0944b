"""`medlake demo` end to end through the CLI, then `status` and `sql` on what it built."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medlake.cli.main import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_demo_builds_a_queryable_lake_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--patients", "25", "--seed", "3", "--dir", str(out)], terminal_width=200)
    assert res.exit_code == 0, res.output
    text = res.output
    for needle in (
        "medlake demo · run ",
        "landing",
        "bronze.ehr__patients",
        "silver.patient",
        "views.observation",
        "gold.patient_360",
        "quarantined:",
        "a sample Patient 360: one enterprise person (synthetic)",
        "Query it: medlake sql -c",
    ):
        assert needle in text, needle
    for stage in ("land", "bronze", "silver", "identity", "gold"):
        assert f"│ {stage} " in text, stage

    cfg = str(out / "medlake.yaml")
    # one Patient 360 row per enterprise person
    res = runner.invoke(app, ["sql", "-c", cfg, "-f", "csv",
                              "select count(*) = (select count(distinct person_id) from identity.crosswalk) as ok from gold.patient_360"])
    assert res.output == "ok\nTrue\n"
    lake = out / "lake"
    res = runner.invoke(app, ["sql", "--lake", str(lake), "-f", "csv", "select count(*) > 0 from silver.patient"])
    assert res.exit_code == 0 and res.output.endswith("True\n"), res.output

    res = runner.invoke(app, ["status", "-c", cfg], terminal_width=200)
    assert res.exit_code == 0, res.output
    for source in ("ehr", "clinic", "fhir_ehr", "lab", "adt", "claims", "pharmacy", "wearables"):
        assert f"│ {source} " in res.output, source
    assert "gold.patient_360" in res.output

    # a second demo over the same folder lands nothing new and changes nothing
    before = runner.invoke(app, ["sql", "-c", cfg, "-f", "csv", "select count(*), sum(version) from silver.observation"]).output
    res = runner.invoke(app, ["demo", "--patients", "25", "--seed", "3", "--dir", str(out)], terminal_width=200)
    assert res.exit_code == 0, res.output
    after = runner.invoke(app, ["sql", "-c", cfg, "-f", "csv", "select count(*), sum(version) from silver.observation"]).output
    assert after == before
