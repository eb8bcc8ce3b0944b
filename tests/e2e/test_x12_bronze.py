"""X12 files → bronze: one row per transaction set, idempotent on sender + receiver + ST02 +
content, envelope defects noted on the set or quarantined with their position.

The interchanges are written here by hand (005010X221A1 835 layout)."""

from __future__ import annotations

from pathlib import Path

from e2e_helpers import query, write_config

from medlake.pipeline import run

ISA = "ISA*00*          *00*          *ZZ*PAYER01        *ZZ*PROVIDER01     *240320*1015*^*00501*000000202*0*T*:~\n"
GS = "GS*HP*PAYER01*PROVIDER01*20240320*1015*202*X*005010X221A1~\n"
SET1 = (
    "ST*835*1001~\nBPR*I*100*C*CHK************20240320~\nTRN*1*CHK1*1999999999~\nN1*PR*PLAN~\nN1*PE*CLINIC*XX*1234567893~\n"
    "LX*1~\nCLP*PCN1*1*150*100*50*12*ICN1~\nCAS*PR*1*50~\nSE*9*1001~\n"
)
SET2 = (
    "ST*835*1002~\nBPR*I*0*C*NON************20240320~\nTRN*1*CHK2*1999999999~\nN1*PR*PLAN~\nN1*PE*CLINIC*XX*1234567893~\n"
    "LX*1~\nCLP*PCN2*4*40*0*0*12*ICN2~\nCAS*CO*29*40~\nSE*7*1002~\n"  # SE01 says 7; the set has 9 segments
)
END = "GE*2*202~\nIEA*1*000000202~\n"

CONFIG = """
lake: ./lake
tenants:
  - name: t
    sources:
      - {name: remits, kind: x12, location: ./remits}
"""


def _project(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "remits").mkdir()
    return write_config(tmp_path, CONFIG)


def test_one_row_per_set_with_envelope_facts_and_its_problems(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "remits" / "a.x12").write_text(ISA + GS + SET1 + SET2 + END, newline="")
    run(project, "t", ("land", "bronze"))
    rows = query(
        project, "t",
        "select _record_index, family, set_control_number, guide, functional_id, group_control_number, "
        "interchange_control_number, sender_id, receiver_id, usage_indicator, segment_count, claim_count, "
        "line_ending, parse_problems is not null, raw from bronze.remits__transactions order by _record_index",
    )
    assert rows == [
        (0, "835", "1001", "005010X221A1", "HP", "202", "000000202", "PAYER01", "PROVIDER01", "T", 9, 1, "LF", False, SET1),
        (1, "835", "1002", "005010X221A1", "HP", "202", "000000202", "PAYER01", "PROVIDER01", "T", 9, 1, "LF", True, SET2),
    ]
    (problems,) = query(project, "t", "select parse_problems from bronze.remits__transactions where set_control_number = '1002'")[0]
    assert "SE01" in problems and "7" in problems


def test_a_file_sent_again_under_another_name_adds_no_rows(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "remits" / "a.x12").write_text(ISA + GS + SET1 + END, newline="")
    run(project, "t", ("land", "bronze"))
    # the same set again, in a new interchange with a second set and CRLF line breaks
    (tmp_path / "remits" / "b.x12").write_text((ISA + GS + SET1 + SET2 + END).replace("~\n", "~\r\n"), newline="")
    run(project, "t", ("land", "bronze"))
    run(project, "t", ("land", "bronze"))
    rows = query(project, "t", "select set_control_number, _object_name from bronze.remits__transactions order by all")
    # the CRLF copy of set 1001 has other text (its line breaks), so it is kept: nothing is lost
    assert rows == [("1001", "a.x12"), ("1001", "b.x12"), ("1002", "b.x12")]
    # a new interchange (another ISA13) re-sending set 1001 byte for byte: the set is not added
    again = (ISA + GS + SET1 + END).replace("000000202", "000000203")
    (tmp_path / "remits" / "c.x12").write_text(again, newline="")
    run(project, "t", ("land", "bronze"))
    assert query(project, "t", "select count(*) from bronze.remits__transactions") == [(3,)]
    assert query(project, "t", "select count(*) from meta.manifest where original_name = 'c.x12' and event = 'bronzed'") == [(1,)]


def test_a_file_with_no_interchange_is_quarantined(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "remits" / "junk.x12").write_text("this is not X12\n", newline="")
    (tmp_path / "remits" / "cut.x12").write_text(ISA + GS + SET1, newline="")  # no GE, no IEA
    run(project, "t", ("land", "bronze"))
    got = query(project, "t", "select object_name, position, reason from meta.quarantine order by all")
    names = [g[0] for g in got]
    assert "junk.x12" in names and "cut.x12" in names
    assert any(r[0] == "cut.x12" and "IEA" in r[2] for r in got)
    assert query(project, "t", "select count(*) from bronze.remits__transactions") == [(1,)]
