"""`medlake phi catalogue`, `medlake deid` and `medlake sql --deidentified`, whole outputs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from medlake.cli.deid import catalogue_rows
from medlake.cli.main import app
from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake

runner = CliRunner()


def test_phi_catalogue_csv() -> None:
    res = runner.invoke(app, ["phi", "catalogue"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert res.stdout.splitlines()[0] == "kind,scope,name,category,treatment,note"
    assert len(rows) == len(catalogue_rows())
    assert {"kind": "element", "scope": "Patient", "name": "Patient.birthDate", "category": "dates", "treatment": "", "note": ""} in rows
    assert {
        "kind": "column", "scope": "*", "name": "postal_code", "category": "geographic", "treatment": "zip3", "note": "",
    } in rows
    practitioner = [r for r in rows if r["scope"] == "views.practitioner" and r["name"] == "family_name"]
    assert [(r["category"], r["treatment"]) for r in practitioner] == [("not_phi", "keep")]


def test_phi_catalogue_json() -> None:
    res = runner.invoke(app, ["phi", "catalogue", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert orjson.loads(res.stdout) == catalogue_rows()


def _patients(lake: TenantLake) -> int:
    con = connect(lake)
    try:
        return int(con.execute("SELECT count(*) FROM views.patient").fetchone()[0])
    finally:
        con.close()


@pytest.mark.slow
def test_deid_writes_csv(phi_lake: TenantLake, lake_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "patient.csv"
    res = runner.invoke(app, ["deid", "views.patient", "--out", str(out), "--lake", str(lake_dir), "--as-of", "2024-07-01"])
    assert res.exit_code == 0, res.output
    n = _patients(phi_lake)
    assert res.stdout == (
        f"wrote {n} rows of views.patient, 14 columns, to {out}; "
        "removed source_id, mrn, family_name, given_name, address_line, city, phone, email\n"
    )
    lines = out.read_text().splitlines()
    assert lines[0] == (
        "id,source,source_system,birth_year,deceased,deceased_year,gender,state,zip3,race,race_code,ethnicity,"
        "ethnicity_code,last_updated_year"
    )
    assert len(lines) == n + 1


@pytest.mark.slow
def test_deid_writes_parquet_of_a_mart(lake_dir: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "p360.parquet"
    res = runner.invoke(app, ["deid", "gold.patient_360", "--out", str(out), "--lake", str(lake_dir)])
    assert res.exit_code == 0, res.output
    names = pq.read_schema(out).names
    assert {"person_id", "birth_year", "age_years", "zip3"} <= set(names)
    assert not {"family_name", "given_name", "mrn", "city", "birth_date", "postal_code"} & set(names)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["views.patien", "--out", "x.csv"], "error: `views.patien` is not a table of this lake. Did you mean `views.patient`?\n"),
        (["views.patient", "--out", "x.txt"], "error: `x.txt`: the output format comes from the extension; use `.parquet` or `.csv`\n"),
    ],
)
def test_deid_errors(lake_dir: Path, args: list[str], message: str) -> None:
    res = runner.invoke(app, ["deid", *args, "--lake", str(lake_dir)])
    assert res.exit_code == 2
    assert res.stderr == message


@pytest.mark.slow
def test_sql_deidentified_session(phi_lake: TenantLake, lake_dir: Path) -> None:
    n = _patients(phi_lake)
    q = "select count(*) n, count(distinct length(id)) lengths, max(length(id)) len from views.patient"
    res = runner.invoke(app, ["sql", "--deidentified", "--lake", str(lake_dir), "-f", "csv", q])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"n,lengths,len\n{n},1,32\n"
    schemas = runner.invoke(
        app, ["sql", "--deidentified", "--lake", str(lake_dir), "-f", "csv",
              "select distinct schema_name from information_schema.schemata where schema_name in ('bronze','silver','meta','views','gold') order by 1"],
    )
    assert schemas.stdout == "schema_name\ngold\nviews\n"
    res = runner.invoke(app, ["sql", "--deidentified", "--lake", str(lake_dir), "select family_name from views.patient"])
    assert res.exit_code == 2
    assert 'Referenced column "family_name" not found' in res.stderr
