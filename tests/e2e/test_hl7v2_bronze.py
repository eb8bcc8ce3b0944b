"""HL7 v2 files → bronze messages → silver: one row per message, idempotent on sender +
control id + content, bad text quarantined with its position, unmapped segments counted.

The messages are written here by hand (v2.5 ADT and ORU layouts)."""

from __future__ import annotations

from pathlib import Path

from e2e_helpers import query, write_config

from medlake.pipeline import run

A01 = (
    "MSH|^~\\&|HIS|GENHOSP|LAKE|GENHOSP|20240105081500||ADT^A01^ADT_A01|CTL0001|P|2.5\r"
    "EVN|A01|20240105081500\r"
    "PID|1||M1001^^^GENHOSP^MR||Rivera^Ana^L||19800214|F\r"
    "PV1|1|I|4W^401^A^GENHOSP|||||||MED||||||||V5001|||||||||||||||||||||||||20240105080000\r"
    "ZPI|custom|data\r"
)
ORU = (
    "MSH|^~\\&|LIS|LAB|LAKE|GENHOSP|20240106093000||ORU^R01^ORU_R01|LAB0001|P|2.5.1\r"
    "PID|1||M1001^^^GENHOSP^MR||Rivera^Ana^L||19800214|F\r"
    "OBR|1|ORD1|FIL1|4548-4^Hemoglobin A1c^LN|||20240106080000\r"
    "OBX|1|NM|4548-4^Hemoglobin A1c^LN||7.2|%|4.0-5.6|H|||F|||20240106080000\r"
)

CONFIG = """
lake: ./lake
tenants:
  - name: t
    sources:
      - {name: adt, kind: hl7v2, location: ./adt, timezone: America/New_York}
"""


def _project(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "adt").mkdir()
    return write_config(tmp_path, CONFIG)


def test_one_bronze_row_per_message_with_header_facts(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "adt" / "a.hl7").write_text(A01 + ORU, newline="")
    run(project, "t", ("land", "bronze"))
    rows = query(
        project, "t",
        "select _record_index, message_type, trigger_event, message_structure, control_id, sending_application, "
        "sending_facility, receiving_application, message_time, version, segment_count, line_ending, raw "
        "from bronze.adt__messages order by _record_index",
    )
    assert rows == [
        (0, "ADT", "A01", "ADT_A01", "CTL0001", "HIS", "GENHOSP", "LAKE", "20240105081500", "2.5", 5, "CR", A01),
        (1, "ORU", "R01", "ORU_R01", "LAB0001", "LIS", "LAB", "LAKE", "20240106093000", "2.5.1", 4, "CR", ORU),
    ]


def test_a_message_sent_again_in_another_file_lands_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "adt" / "a.hl7").write_text(A01, newline="")
    run(project, "t", ("land", "bronze"))
    # a retransmission: the same message again, now together with a new one, LF-terminated
    (tmp_path / "adt" / "b.hl7").write_text(A01 + ORU, newline="")
    run(project, "t", ("land", "bronze"))
    run(project, "t", ("land", "bronze"))  # and re-running changes nothing
    rows = query(project, "t", "select control_id, _object_name from bronze.adt__messages order by control_id")
    assert rows == [("CTL0001", "a.hl7"), ("LAB0001", "b.hl7")]


def test_text_outside_messages_and_batch_defects_are_quarantined(tmp_path: Path) -> None:
    project = _project(tmp_path)
    body = "FHS|^~\\&\rBHS|^~\\&\r" + A01 + "BTS|2\rFTS|1\r"
    (tmp_path / "adt" / "batch.hl7").write_text(body, newline="")
    (tmp_path / "adt" / "junk.hl7").write_text("hello there\r" + ORU, newline="")
    (tmp_path / "adt" / "empty.hl7").write_text("nothing to see\r", newline="")
    run(project, "t", ("land", "bronze"))
    got = query(project, "t", "select object_name, record_index, position, reason, raw from meta.quarantine order by all")
    assert got == [
        ("batch.hl7", -1, "line 8 BTS-1", "batch.hl7: line 8 BTS-1: batch 1 declares 2 messages (BTS-1) but holds 1", "BTS|2"),
        ("empty.hl7", -1, "file", "empty.hl7: no HL7 v2 message (no `MSH` segment) in the object", None),
        ("empty.hl7", -1, "line 1",
         'empty.hl7: line 1: text outside any segment (a segment starts with a 3-character id): "nothing to see"',
         "nothing to see"),
        ("junk.hl7", -1, "line 1",
         'junk.hl7: line 1: text outside any segment (a segment starts with a 3-character id): "hello there"',
         "hello there"),
    ]
    assert query(project, "t", "select count(*) from bronze.adt__messages") == [(2,)]


def test_messages_reach_silver_and_unmapped_segments_are_counted(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "adt" / "a.hl7").write_text(A01 + ORU, newline="")
    run(project, "t", ("land", "bronze", "silver"))
    patients = query(project, "t", "select count(*) from silver.patient")
    assert patients == [(1,)]  # the same MRN and authority in both messages: one source patient
    unmapped = query(project, "t", "select message_type, segment, sum(count) from meta.unmapped group by all order by all")
    assert ("ADT", "ZPI", 1) in unmapped
    again = query(project, "t", "select count(*) from meta.unmapped")
    run(project, "t", ("land", "bronze", "silver"))
    assert query(project, "t", "select count(*) from meta.unmapped") == again  # nothing new, nothing counted
