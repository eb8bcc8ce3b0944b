"""Schema drift of delimited feeds: detection (hand-made headers and values → the exact change
list), the `schema_drift` policies end to end on a tiny source, idempotent re-runs, and the
synthetic EHR's drifted `patients_2.txt` detected as a rename plus an addition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from medlake.bronze.drift import Column, compare, evolved, infer_type, missing_required, similar
from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run


def table(header: list[str], *rows: list[str]) -> pa.Table:
    return pa.table({h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)})


# -- types -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+30", ""], "integer"),
        (["1", "2.5", ".5", "1e3"], "decimal"),
        (["true", "N", "yes", "FALSE"], "boolean"),
        (["F", "M"], "string"),  # sex codes, not t/f
        (["0", "1"], "integer"),  # 0/1 read as numbers, not booleans
        (["2024-03-10", "3/10/2024"], "date"),
        (["2024-03-10 02:30", "2024-03-10T02:30:00-05:00", "2024-03-10"], "datetime"),
        (["19800214"], "integer"),  # eight digits are a number, not a date
        (["60614", "60614-1234"], "string"),
        (["", None], "empty"),
        (["abc", "1"], "string"),
    ],
)
def test_infer_type(values: list[str | None], expected: str) -> None:
    assert infer_type(pa.array(values, pa.string())) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("PHONE", "HOME_PHONE", True), ("zip", "ZIP_CODE", True), ("Adress", "ADDRESS", True),
     ("PHONE", "EMAIL", False), ("ID", "PAT_ID", False), ("SEX", "GENDER", False)],
)  # fmt: skip
def test_similar_names(a: str, b: str, expected: bool) -> None:
    assert similar(a, b) is expected


# -- detection ---------------------------------------------------------------------------------------
REG = [Column("MRN", "integer"), Column("NAME", "string"), Column("PHONE", "string"), Column("DOB", "date")]
ROW = ["7", "Ann", "555-0100", "1980-02-14"]

DETECTION = [
    ("same", ["MRN", "NAME", "PHONE", "DOB"], [ROW], []),
    ("case only", ["mrn", "Name", "phone", "dob"], [ROW], []),
    ("added", ["MRN", "NAME", "PHONE", "DOB", "EMAIL"], [[*ROW, "a@b.c"]], ["column EMAIL added"]),
    ("removed", ["MRN", "NAME", "DOB"], [["7", "Ann", "1980-02-14"]], ["column PHONE removed"]),
    ("renamed by name", ["MRN", "NAME", "HOME_PHONE", "DOB"], [ROW], ["column PHONE renamed to HOME_PHONE"]),
    ("renamed by position", ["MRN", "NAME", "TEL", "DOB"], [ROW], ["column PHONE renamed to TEL"]),
    ("renamed, moved, similar", ["MRN", "NAME", "DOB", "PHONE_NUMBER"], [["7", "Ann", "1980-02-14", "555"]],
     ["column PHONE renamed to PHONE_NUMBER", "columns reordered: MRN, NAME, DOB, PHONE_NUMBER"]),
    ("same place, values do not fit", ["MRN", "NAME", "PHONE", "BIRTH"], [["7", "Ann", "555", "soon"]],
     ["column BIRTH added", "column DOB removed"]),
    ("retyped", ["MRN", "NAME", "PHONE", "DOB"], [ROW, ["A7", "Bo", "", "1990-01-01"], ["B8", "Cy", "", ""]],
     ["column MRN retyped integer → string (2 of 3 values are not integer)"]),
    ("reordered", ["NAME", "MRN", "PHONE", "DOB"], [["Ann", "7", "555", "1980-02-14"]],
     ["columns reordered: NAME, MRN, PHONE, DOB"]),
    ("rename, add, remove", ["MRN", "FULL_NAME", "DOB", "FAX"], [["7", "Ann", "1980-02-14", "1"]],
     ["column NAME renamed to FULL_NAME", "column FAX added", "column PHONE removed"]),
]  # fmt: skip


@pytest.mark.parametrize(("header", "rows", "expected"), [d[1:] for d in DETECTION], ids=[d[0] for d in DETECTION])
def test_detection(header: list[str], rows: list[list[str]], expected: list[str]) -> None:
    assert [c.text for c in compare(REG, table(header, *rows))] == expected


def test_required_columns_and_the_next_version() -> None:
    t = table(["MRN", "NAME", "HOME_PHONE", "DOB", "ZIP"], ["A7", "Ann", "555", "1980-02-14", ""])
    assert [c.text for c in missing_required(("mrn", "PHONE"), t.column_names)] == ["required column PHONE missing"]
    assert evolved(REG, t, [Column(n, infer_type(t.column(n))) for n in t.column_names]) == [
        Column("MRN", "string"), Column("NAME", "string"), Column("HOME_PHONE", "integer"),
        Column("DOB", "date"), Column("ZIP", "empty"),
    ]  # fmt: skip


# -- end to end on a tiny source ------------------------------------------------------------------
SPEC = """\
name: tiny
description: a patient feed for the drift tests
kinds:
  patients:
    match: ["*.csv"]
    columns: [mrn, family]
    resources:
      - type: Patient
        id: "{mrn}"
        fields:
          identifier[0].system: urn:test:mrn
          identifier[0].value: "{mrn}"
          name[0].family: "{family}"
"""


def project(tmp: Path, policy: str) -> ProjectConfig:
    (tmp / "tiny.yaml").write_text(SPEC)
    (tmp / "medlake.yaml").write_text(
        "lake: ./lake\ntenants:\n  - name: t\n    sources:\n"
        f"      - {{name: feed, kind: delimited, location: ./feed, mapping: ./tiny.yaml, schema_drift: {policy}}}\n"
    )
    return load_config(tmp / "medlake.yaml")


def feed(tmp: Path, files: dict[str, str]) -> None:
    (tmp / "feed").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp / "feed" / name).write_text(text)


def q(p: ProjectConfig, sql: str) -> list[tuple[Any, ...]]:
    con = connect(open_lake(p, "t"), gold=False)
    try:
        return list(con.execute(sql).fetchall())
    finally:
        con.close()


def events(p: ProjectConfig) -> list[tuple[Any, ...]]:
    rows = q(p, "select object_name, from_version, to_version, changes, action from meta.schema_events order by recorded_at")
    return [(n, f, t, orjson.loads(c), a) for n, f, t, c, a in rows]


def status(p: ProjectConfig) -> dict[str, str]:
    return dict(q(p, "select original_name, arg_max(event, event_at) from meta.manifest group by 1"))


FIRST = "mrn,family,phone\n1,Smith,555-0100\n2,Jones,555-0101\n"
RENAMED = "mrn,family,home_phone,contact\n3,Brown,555-0102,MAIL\n"
CHANGES = ["column phone renamed to home_phone", "column contact added"]


@pytest.mark.slow
def test_quarantine_policy_holds_the_file_until_the_policy_changes(tmp_path: Path) -> None:
    feed(tmp_path, {"a.csv": FIRST, "b.csv": RENAMED})
    p = project(tmp_path, "quarantine")
    run(p, "t", ("land", "bronze"))
    assert status(p) == {"a.csv": "bronzed", "b.csv": "quarantined"}
    reason = "feed/b.csv: header: column phone renamed to home_phone; column contact added; policy quarantine"
    assert q(p, "select object_name, position, reason from meta.quarantine") == [("b.csv", "header", reason)]
    assert events(p) == [("a.csv", None, 1, [], "registered"), ("b.csv", 1, None, CHANGES, "quarantined")]
    assert q(p, "select count(*) from bronze.feed__patients") == [(2,)]
    # the same policy again: nothing new anywhere
    run(p, "t", ("land", "bronze"))
    assert len(events(p)) == 2 and q(p, "select count(*) from meta.quarantine") == [(1,)]
    assert q(p, "select count(*) from meta.manifest where original_name = 'b.csv'") == [(2,)]
    # the policy changes: the held file evolves the schema and lands
    p = project(tmp_path, "evolve")
    run(p, "t", ("land", "bronze"))
    assert status(p) == {"a.csv": "bronzed", "b.csv": "bronzed"}
    assert events(p)[-1] == ("b.csv", 1, 2, CHANGES, "evolved")
    got = q(p, "select version, columns from meta.schemas order by version")
    assert [(v, orjson.loads(c)) for v, c in got] == [
        (1, [{"name": "mrn", "type": "integer"}, {"name": "family", "type": "string"}, {"name": "phone", "type": "string"}]),
        (2, [{"name": "mrn", "type": "integer"}, {"name": "family", "type": "string"},
             {"name": "home_phone", "type": "string"}, {"name": "contact", "type": "string"}]),
    ]  # fmt: skip
    assert q(p, "select count(*) from bronze.feed__patients") == [(3,)]
    run(p, "t", ("land", "bronze"))  # idempotent
    assert len(events(p)) == 3 and q(p, "select count(*) from bronze.feed__patients") == [(3,)]


@pytest.mark.slow
def test_evolve_and_additive_policies(tmp_path: Path) -> None:
    added = "mrn,family,phone,email\n4,Lee,555,l@x.org\n"
    feed(tmp_path, {"a.csv": FIRST, "b.csv": added, "c.csv": "mrn,family\n5,Kim\n", "d.csv": "family,phone\nNo,1\n"})
    p = project(tmp_path, "additive")
    run(p, "t", ("land", "bronze", "silver"))
    assert status(p) == {"a.csv": "bronzed", "b.csv": "bronzed", "c.csv": "quarantined", "d.csv": "quarantined"}
    assert events(p)[1:] == [
        ("b.csv", 1, 2, ["column email added"], "evolved"),
        ("c.csv", 2, None, ["column phone removed", "column email removed"], "quarantined"),
        ("d.csv", 2, None, ["required column mrn missing", "column mrn removed", "column email removed"], "quarantined"),
    ]
    assert q(p, "select list(source_id order by source_id) from silver.patient") == [(["1", "2", "4"],)]
    # evolve lands the removal; a missing required column stays quarantined under any policy
    p = project(tmp_path, "evolve")
    run(p, "t", ("land", "bronze"))
    assert status(p)["c.csv"] == "bronzed" and status(p)["d.csv"] == "quarantined"
    assert events(p)[-1] == ("c.csv", 2, 3, ["column phone removed", "column email removed"], "evolved")


EHR_V1 = ("PAT_MRN|PAT_LAST_NAME|PAT_FIRST_NAME|PAT_MIDDLE_NAME|SEX|BIRTH_DATE|SSN|ADDR_LINE_1|CITY|STATE|ZIP|"
          "PHONE|EMAIL|RACE|ETHNIC_GROUP|LANGUAGE|MARITAL_STATUS|DEATH_DATE\n"
          "11000003|Cole|Amber||F|1948-11-16||1 Main St|Chicago|IL|60648|872-674-8825|a@b.org|White|"
          "Not Hispanic or Latino|en|S|\n")  # fmt: skip
EHR_V2 = ("PAT_MRN|PAT_LAST_NAME|PAT_FIRST_NAME|PAT_MIDDLE_NAME|SEX|BIRTH_DATE|SSN|ADDR_LINE_1|CITY|STATE|ZIP|"
          "HOME_PHONE|EMAIL|RACE|ETHNIC_GROUP|LANGUAGE|MARITAL_STATUS|DEATH_DATE|PREFERRED_CONTACT\n"
          "14167603|Ayers|Michael||M|1990-01-09||2 Oak Ave|Chicago|IL|60658|847-243-4120|m@a.org|Other Race|"
          "Not Hispanic or Latino|en|S||MAIL\n")  # fmt: skip


@pytest.mark.slow
def test_synthetic_drifted_file_is_a_rename_and_an_addition_and_lands(tmp_path: Path) -> None:
    """The synthetic EHR (src/medlake/synth/emit_ehr.py) sends `patients_2.txt` with PHONE
    renamed and PREFERRED_CONTACT added; the shipped spec maps it as kind `patients_v2`."""
    (tmp_path / "ehr").mkdir()
    (tmp_path / "ehr" / "patients_1.txt").write_text(EHR_V1)
    (tmp_path / "ehr" / "patients_2.txt").write_text(EHR_V2)
    (tmp_path / "medlake.yaml").write_text(
        "lake: ./lake\ntenants:\n  - name: t\n    sources:\n"
        "      - {name: ehr, kind: delimited, location: ./ehr, mapping: medlake-ehr,\n"
        "         format: {delimiter: '|', quote: null}}\n"
    )
    p = load_config(tmp_path / "medlake.yaml")
    run(p, "t", ("land", "bronze"))
    got = q(p, "select kind, object_name, from_kind, from_version, to_version, changes, action from meta.schema_events order by object_name")
    assert [(*r[:5], orjson.loads(r[5]), r[6]) for r in got] == [
        ("patients", "patients_1.txt", None, None, 1, [], "registered"),
        ("patients_v2", "patients_2.txt", "patients", 1, 1,
         ["column PHONE renamed to HOME_PHONE", "column PREFERRED_CONTACT added"], "registered"),
    ]  # fmt: skip
    assert status(p) == {"patients_1.txt": "bronzed", "patients_2.txt": "bronzed"}
