"""Bad input never stops a batch: each bad object or record is quarantined with where and why."""

from __future__ import annotations

from pathlib import Path

from e2e_helpers import query, write_config

from medlake.pipeline import run

SPEC = """\
name: tiny
description: a two-column patient feed for the bad-input test
kinds:
  patients:
    match: ["*.csv"]
    resources:
      - type: Patient
        id: "{mrn}"
        fields:
          identifier[0].system: urn:test:mrn
          identifier[0].value: "{mrn}"
          name[0].family: "{family}"
          birthDate: {column: dob, type: date}
"""


def test_bad_files_and_records_are_quarantined_and_the_rest_lands(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a_good.csv").write_bytes(b"mrn,family,dob\n1,Smith,1970-01-02\n2,Jones,1980-03-04\n")
    (feed / "b_ragged.csv").write_bytes(b"mrn,family,dob\n3,Brown,1990-05-06\n4,Extra,1990-01-01,oops\n5,Lee,2000-07-08\n")
    (feed / "c_truncated.csv").write_bytes(b"mrn,family,dob\n6,Kim,1960-09-10\n7,Cut")
    (feed / "d_latin1.csv").write_bytes("mrn,family,dob\n8,Muñoz,1950-11-12\n".encode("cp1252"))
    (feed / "e_baddate.csv").write_bytes(b"mrn,family,dob\n9,Park,31/31/1999\n10,Ng,1999-12-31\n")
    fhir = tmp_path / "fhir"
    fhir.mkdir()
    (fhir / "Patient.ndjson").write_bytes(
        b'{"resourceType":"Patient","id":"f1"}\n{"resourceType":"Patient","id":"f2"\n{"resourceType":"Patient","id":"f3"}\n'
    )
    (fhir / "notjson.json").write_bytes(b"<Bundle/>")
    (tmp_path / "tiny.yaml").write_text(SPEC)
    project = write_config(
        tmp_path,
        """
lake: ./lake
tenants:
  - name: t
    sources:
      - {name: feed, kind: delimited, location: ./feed, mapping: ./tiny.yaml}
      - {name: fhir, kind: fhir, location: ./fhir}
""",
    )
    run(project, "t", ("land", "bronze", "silver"))
    got = query(project, "t", "select source, stage, object_name, record_index, position, reason from meta.quarantine order by all")
    assert got == [
        ("feed", "bronze", "b_ragged.csv", 1, "line 3", "b_ragged.csv: line 3: expected 3 fields, found 4"),
        ("feed", "bronze", "c_truncated.csv", 1, "line 3",
         "c_truncated.csv: line 3: expected 3 fields, found 2; the file ends without a line break, it may be truncated"),
        ("feed", "bronze", "d_latin1.csv", -1, "line 2",
         "`d_latin1.csv`: line 2: bytes 0xF1 0x6F at offset 19 are not valid UTF-8; declare `encoding: cp1252` "
         "(or the feed's real encoding) in the source's format options"),
        ("feed", "silver", "e_baddate.csv", 0, "line 2",
         "e_baddate.csv: line 2: column `dob`: `31/31/1999` is not a date (tried ISO 8601, %Y%m%d, %Y%m%d%H%M%S, %m/%d/%Y, %m/%d/%Y %H:%M, %m/%d/%Y %H:%M:%S)"),
        ("fhir", "bronze", "Patient.ndjson", 1, "line 2", got[4][5]),
        ("fhir", "bronze", "notjson.json", -1, "line 1 col 1", got[5][5]),
    ]
    assert got[4][5].startswith("Patient.ndjson: line 2: not valid JSON")
    assert got[5][5].startswith("`notjson.json`: line 1 col 1: not valid JSON")
    # the raw text of a bad record is kept, so nothing is lost
    raw = query(project, "t", "select raw from meta.quarantine where object_name = 'b_ragged.csv'")
    assert raw == [("4,Extra,1990-01-01,oops",)]
    # everything else landed
    mrns = query(project, "t", "select list(source_id order by source_id::int) from silver.patient where source = 'feed'")
    assert mrns == [(["1", "2", "3", "5", "6", "10"],)]
    fhir_ids = query(project, "t", "select list(source_id order by source_id) from silver.patient where source = 'fhir'")
    assert fhir_ids == [(["f1", "f3"],)]
    status = dict(query(project, "t", "select original_name, arg_max(event, event_at) from meta.manifest group by 1"))
    assert status["d_latin1.csv"] == "quarantined" and status["notjson.json"] == "quarantined"
    assert status["b_ragged.csv"] == "bronzed"


def test_headers_that_clash_in_delta_are_quarantined_and_case_drift_is_absorbed(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "a.csv").write_bytes(b"mrn,family,dob\n1,Smith,1970-01-02\n")
    (feed / "b.csv").write_bytes(b"MRN,Family,dob\n2,Jones,1980-03-04\n")  # same columns, other case
    (feed / "c.csv").write_bytes(b"mrn,MRN,family,dob\n3,3,Lee,1990-01-01\n")
    (tmp_path / "tiny.yaml").write_text(SPEC)
    project = write_config(
        tmp_path,
        "lake: ./lake\ntenants:\n  - name: t\n    sources:\n"
        "      - {name: feed, kind: delimited, location: ./feed, mapping: ./tiny.yaml}\n",
    )
    run(project, "t", ("land", "bronze", "silver"))
    got = query(project, "t", "select object_name, position, reason from meta.quarantine")
    assert got == [
        ("c.csv", "header",
         "c.csv: header: columns `mrn` and `MRN` become the same Delta column (Delta names are "
         "case-insensitive and cannot hold ` ,;{}()=` or tabs); rename them at the source or give "
         "`columns` in the source's format options"),
    ]
    rows = query(project, "t", "select mrn, family from bronze.feed__patients order by mrn")
    assert rows == [("1", "Smith"), ("2", "Jones")]
    assert query(project, "t", "select count(*) from silver.patient") == [(2,)]
