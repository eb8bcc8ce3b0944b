"""Builtins over what bronze records: truncation, quarantine, schema drift, freshness, reconciliation."""

from __future__ import annotations

from typing import Any

import pytest
from builtin_fixture import brief, context, run, session


def _manifest(con: Any, rows: list[tuple[str, str, str, int, str, str]]) -> None:
    """rows: (source, sha, name, size, received_at, event)."""
    con.execute("create table meta.manifest (source varchar, object_sha256 varchar, original_name varchar, size bigint, "
                "received_at timestamptz, event varchar)")
    con.executemany("insert into meta.manifest values (?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture
def lake() -> Any:
    con = session()
    _manifest(con, [
        ("ehr", "a", "procedures_1.txt", 2683, "2026-01-15 08:00:00+00", "landed"),
        ("ehr", "a", "procedures_1.txt", 2683, "2026-01-15 08:00:00+00", "bronzed"),
        ("ehr", "b", "vitals_1.txt", 9000, "2026-01-15 08:00:00+00", "landed"),
        ("claims", "c", "837p_0001.x12", 8000, "2026-01-14 08:00:00+00", "landed"),
        ("claims", "c", "837p_0001.x12", 8000, "2026-01-14 08:00:00+00", "bronzed"),
        *[("fills", f"f{i}", f"fills_{2020 + i}.csv", 5000, f"2026-01-1{i} 08:00:00+00", e)
          for i in range(4) for e in ("landed", "bronzed")],
        ("fills", "f4", "fills_2024.csv", 300, "2026-01-14 08:00:00+00", "landed"),
        ("fills", "f4", "fills_2024.csv", 300, "2026-01-14 08:00:00+00", "bronzed"),
    ])
    con.execute("create table meta.quarantine as select * from (values "
                "('ehr', 'bronze', 'a', 'procedures_1.txt', 23, 'procedures_1.txt: line 25: expected 7 fields, found 6; "
                "the file ends without a line break, it may be truncated'), "
                "('ehr', 'bronze', 'b', 'vitals_1.txt', 521, 'vitals_1.txt: line 523: expected 9 fields, found 8')) "
                "as t(source, stage, object_sha256, object_name, record_index, reason)")
    con.execute("""create table bronze.claims__transactions as select * from (values
        ('claims', 'c', '837p_0001.x12', 0, true, '[{"message":"SE01 says 43 segments but the set has 42 (ST through SE)"}]'),
        ('claims', 'c', '837p_0001.x12', 1, true, null)) as t(_source, _object_sha256, _object_name, _record_index,
        has_trailer, parse_problems)""")
    con.execute("create table bronze.ehr__vitals as select 'ehr' as _source from range(99)")
    return con


def test_truncation_flags_cut_files_control_counts_and_small_files(lake: Any) -> None:
    ctx = context(lake, ("ehr", "delimited"), ("claims", "x12"), ("fills", "delimited"), ("lab", "hl7v2"))
    assert brief(run(ctx, "bronze_truncation")) == [
        ("ehr", 1, 2, "1 of 2 `ehr` objects look truncated: procedures_1.txt (last record cut off)"),
        ("claims", 1, 1, "1 of 1 `claims` objects look truncated: 837p_0001.x12 (control counts do not match)"),
        ("fills", 1, 5, "1 of 5 `fills` objects look truncated: fills_2024.csv (much smaller than usual)"),
        ("lab", 0, 0, "no object of `lab` has landed yet"),
    ]


def test_truncation_size_rule_needs_history_and_a_listed_kind(lake: Any) -> None:
    ctx = context(lake, ("fills", "delimited"))
    assert brief(run(ctx, "bronze_truncation", min_history=5))[0][1:3] == (0, 5)
    assert brief(run(ctx, "bronze_truncation", size_kinds=["x12"]))[0][1:3] == (0, 5)
    assert run(ctx, "bronze_truncation", ratio=0.05)[0].sentence == "none of the 5 `fills` objects looks truncated"


def test_quarantine_counts_held_records_against_bronze_rows(lake: Any) -> None:
    ctx = context(lake, ("ehr", "delimited"), ("claims", "x12"))
    assert brief(run(ctx, "bronze_quarantine")) == [
        ("ehr", 2, 101, "2 of 101 `ehr` records or objects were quarantined at bronze"),
        ("claims", 0, 2, "no `claims` record was quarantined at bronze (2 records)"),
    ]


def test_reconciliation_finds_landed_objects_never_processed(lake: Any) -> None:
    ctx = context(lake, ("ehr", "delimited"), ("claims", "x12"))
    assert brief(run(ctx, "objects_reconciled")) == [
        ("ehr", 1, 2, "1 of 2 landed `ehr` objects are not in bronze nor quarantined"),
        ("claims", 0, 1, "all 1 landed `claims` objects reached bronze or quarantine"),
    ]


def test_x12_balance_reports_rules_off_to_the_cent() -> None:
    con = session()
    con.execute("create table meta.x12_balance as select * from (values "
                "('claims', '835_0001.x12', 0, 'CLP03 - CLP04 = sum(CAS)', 'claim X', 10.00::decimal(18,2), "
                "22.14::decimal(18,2), -12.14::decimal(18,2), false), "
                "('claims', '835_0001.x12', 0, 'BPR02 = sum(CLP04) - sum(PLB)', 'payment', 5.00::decimal(18,2), "
                "5.00::decimal(18,2), 0.00::decimal(18,2), true)) "
                "as t(source, object_name, record_index, rule, subject, expected, actual, difference, balanced)")
    assert brief(run(context(con), "x12_balance")) == [
        ("claims", 1, 2, "1 of 2 `claims` X12 balancing checks are off (by 12.14 in all)")]


def test_schema_drift_per_delimited_source() -> None:
    con = session()
    con.execute("""create table meta.schema_events as select * from (values
        ('ehr', 'patients', 'patients_1.txt', null, '[]', 'registered'),
        ('ehr', 'patients_v2', 'patients_2.txt', 'patients', '["column PHONE renamed to HOME_PHONE"]', 'registered'),
        ('ehr', 'vitals', 'vitals_2.txt', null, '["column X added"]', 'evolved'),
        ('clinic', 'labs', 'labs.csv', null, '[]', 'registered')) as t(source, kind, object_name, from_kind, changes, action)""")
    ctx = context(con, ("ehr", "delimited"), ("clinic", "delimited"), ("lab", "hl7v2"), ("pharmacy", "delimited"))
    assert brief(run(ctx, "schema_drift")) == [
        ("ehr", 2, 3, "2 of 3 `ehr` files drifted from their registered columns"),
        ("clinic", 0, 1, "no `clinic` file drifted from its registered columns (1 files)"),
        ("pharmacy", 0, 0, "no `pharmacy` file has been read yet"),
    ]


def test_freshness_against_each_sources_hours(lake: Any) -> None:
    ctx = context(lake, ("ehr", "delimited", 24.0), ("claims", "x12", 12.0), ("lab", "hl7v2", 6.0), ("fills", "delimited"))
    out = run(ctx, "freshness")
    assert brief(out) == [
        ("ehr", 0, 1, "the newest `ehr` object landed 4.0 h ago (within the 24 h expected)"),
        ("claims", 1, 1, "the newest `claims` object landed 28.0 h ago (over the 12 h expected)"),
        ("lab", 1, 1, "no `lab` object has landed (expected every 6 h)"),
        ("fills", 0, 0, "`fills` declares no `freshness_hours`"),
    ]
    assert out[3].status == "not_applicable"
