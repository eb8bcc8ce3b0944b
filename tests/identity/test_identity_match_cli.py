"""`medlake match` on a CSV it has never seen, with an arbitrary column mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medlake.cli.main import app

CSV = """\
PatID,First,Last,DOB,Gender,Zip,Tel
1,Robert,Smith,1980-03-04,M,60601,312-555-1234
2,Bob,Smtih,03/04/1980,male,60601-1234,
3,Jane,Doe,19900101,F,60614,773-444-1111
4,Jill,Doe,1990-01-01,F,60614,773-444-1111
5,Robert,Smith,,M,60601,(312) 555-1234
"""
MAP = ["--map", "given_name=First", "--map", "family_name=Last", "--map", "birth_date=DOB", "--map", "sex=Gender",
       "--map", "postal_code=Zip", "--map", "phone=Tel"]


@pytest.fixture()
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_match_writes_clusters_and_pairs(people: Path, tmp_path: Path) -> None:
    out, pairs = tmp_path / "out.csv", tmp_path / "pairs.csv"
    code, stdout, _ = run("match", str(people), str(out), "--id-column", "PatID", *MAP, "--explain", str(pairs))
    assert code == 0
    assert stdout.startswith("5 records → 3 clusters (3 links, 1 for review) in ")
    assert out.read_text() == "record_id,cluster_id\n1,1\n2,1\n3,3\n4,4\n5,1\n"
    lines = pairs.read_text().splitlines()
    assert lines[0] == "record_id_l,record_id_r,probability,match_weight,rule,decision,evidence"
    assert [ln.split(",")[:2] + ln.split(",")[4:6] for ln in lines[1:]] == [
        ["1", "2", "probabilistic", "link"], ["1", "5", "probabilistic", "link"],
        ["2", "5", "probabilistic", "link"], ["3", "4", "probabilistic", "review"],
    ]
    assert '""field"":""given"",""level"":""different""' in lines[4]


@pytest.mark.parametrize(("args", "message"), [
    (["--id-column", "PatID", "--map", "given=First"],
     "error: unknown role `given` in --map given=First (did you mean `given_name`?); allowed roles: given_name, "
     "family_name, birth_date, sex, address_line, city, state, postal_code, phone, email, ssn, mrn, source\n"),
    (["--id-column", "PatID", "--map", "given_name=Frist"],
     "error: column `Frist` (for role `given_name`) is not in {csv}; its columns are: PatID, First, Last, DOB, "
     "Gender, Zip, Tel\n"),
    (["--id-column", "Id"], "error: column `Id` (for --id-column) is not in {csv}; its columns are: PatID, First, "
     "Last, DOB, Gender, Zip, Tel\n"),
    (["--id-column", "Last", "--map", "given_name=First"],
     "error: column `Last` has 2 duplicate value(s) in {csv} (first: `Smith`); the id column must identify each "
     "record once\n"),
    (["--id-column", "PatID", "--map", "given_name"], "error: --map expects ROLE=COLUMN, got `given_name`\n"),
])
def test_errors(people: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = run("match", str(people), str(tmp_path / "o.csv"), *args)
    assert code == 2
    assert stderr == message.format(csv=people)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, stderr = run("match", str(empty), str(tmp_path / "o.csv"), "--id-column", "id")
    assert (code, stderr) == (2, f"error: {empty} is empty; expected a header line and one record per line\n")


def test_help_has_an_example() -> None:
    code, stdout, _ = run("match", "--help")
    assert code == 0 and "Example: medlake match people.csv clusters.csv --id-column PatID" in stdout
