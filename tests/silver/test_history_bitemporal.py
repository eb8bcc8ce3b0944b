"""Bitemporal history: record time and valid time, late arrivals, corrections, replays, old lakes."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver import store
from medlake.silver.schema import CURRENT_SCHEMA, HISTORY_SCHEMA, TS

R1 = datetime(2026, 1, 1, tzinfo=UTC)
R2 = datetime(2026, 2, 1, tzinfo=UTC)
R3 = datetime(2026, 3, 1, tzinfo=UTC)


def us(day: int) -> int:
    """Valid time: midnight UTC of 2025-12-<day>, in microseconds."""
    return int(datetime(2025, 12, day, tzinfo=UTC).timestamp()) * 1_000_000


def rec(family: str, at: int | None, idx: int = 0, sha: str = "sha", rid: str = "p1") -> store.SilverRecord:
    res: dict[str, Any] = {"resourceType": "Patient", "id": rid, "name": [{"family": family}], "meta": {"source": "urn:x"}}
    return store.SilverRecord(rid, "Patient", res, rid, "ehr", "urn:x", f"src-{rid}", sha, "f.hl7", idx, "b1", at)


def history(lake: TenantLake) -> list[tuple[int, str, str, datetime | None, bool | None]]:
    """(version, family, reason, source_time, closed?) per history row; closed? is None for an
    empty record interval (never current)."""
    t = delta.read(lake.history("Patient"))
    assert t is not None
    out = []
    for r in sorted(t.to_pylist(), key=lambda r: r["version"]):
        closed = None if r["valid_to"] == r["valid_from"] else r["valid_to"] is not None
        out.append((r["version"], orjson.loads(r["resource"])["name"][0]["family"], r["reason"], r.get("source_time"), closed))
    return out


def current(lake: TenantLake) -> list[tuple[str, int, str]]:
    t = delta.read(lake.silver("Patient"))
    assert t is not None
    return [(r["id"], r["version"], orjson.loads(r["resource"])["name"][0]["family"]) for r in t.to_pylist()]


def at(day: int) -> datetime:
    return datetime(2025, 12, day, tzinfo=UTC)


def test_a_late_arrival_is_kept_in_history_but_does_not_replace_current(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [rec("New", us(20), sha="o1")], now=R1)
    stats = store.write(lake, "t", [rec("Old", us(10), sha="o2")], now=R2)
    assert (stats.inserted, stats.updated, stats.unchanged, stats.late_arrivals) == (0, 0, 0, 1)
    assert current(lake) == [("p1", 1, "New")]
    assert history(lake) == [(1, "New", "initial", at(20), False), (2, "Old", "late_arrival", at(10), None)]
    row = next(r for r in delta.read(lake.history("Patient")).to_pylist() if r["version"] == 2)  # type: ignore[union-attr]
    assert row["valid_from"] == row["valid_to"] == R2  # recorded then, never current
    assert orjson.loads(row["resource"])["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    ("second", "expected_reason"),
    [(us(20), "correction"), (us(25), "correction"), (None, "correction")],
    ids=["same valid time", "later valid time", "unknown valid time"],
)
def test_a_correction_at_the_same_or_a_later_valid_time_becomes_current(
    tmp_path: Path, second: int | None, expected_reason: str
) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [rec("A", us(20), sha="o1")], now=R1)
    stats = store.write(lake, "t", [rec("B", second, sha="o2")], now=R2)
    assert (stats.updated, stats.late_arrivals) == (1, 0)
    assert current(lake) == [("p1", 2, "B")]
    expected_time = None if second is None else datetime.fromtimestamp(second / 1e6, UTC)
    assert history(lake) == [(1, "A", "initial", at(20), True), (2, "B", expected_reason, expected_time, False)]


def test_a_correction_after_a_late_arrival_closes_the_current_version_not_the_late_one(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [rec("A", us(20), sha="o1")], now=R1)
    store.write(lake, "t", [rec("Late", us(10), sha="o2")], now=R2)
    store.write(lake, "t", [rec("C", us(30), sha="o3")], now=R3)
    assert current(lake) == [("p1", 3, "C")]
    assert history(lake) == [
        (1, "A", "initial", at(20), True),
        (2, "Late", "late_arrival", at(10), None),
        (3, "C", "correction", at(30), False),
    ]
    rows = {r["version"]: r for r in delta.read(lake.history("Patient")).to_pylist()}  # type: ignore[union-attr]
    assert rows[1]["valid_to"] == R3  # closed when C, not the late arrival, took over
    assert rows[2]["valid_to"] == R2


def test_a_late_arrival_in_the_same_batch_as_the_newer_version(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    stats = store.write(lake, "t", [rec("New", us(20), 0), rec("Old", us(10), 1)], now=R1)
    assert (stats.inserted, stats.late_arrivals) == (1, 1)
    assert current(lake) == [("p1", 1, "New")]
    assert [h[:3] for h in history(lake)] == [(1, "New", "initial"), (2, "Old", "late_arrival")]


def test_replaying_a_batch_with_a_late_arrival_adds_nothing(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    batch = [rec("New", us(20), 0), rec("Old", us(10), 1), rec("Newer", us(21), 2)]
    store.write(lake, "t", batch, now=R1)
    before = history(lake)
    stats = store.write(lake, "t", [rec("New", us(20), 0), rec("Old", us(10), 1), rec("Newer", us(21), 2)], now=R2)
    assert (stats.inserted, stats.updated, stats.late_arrivals) == (0, 0, 0)
    assert history(lake) == before
    assert current(lake) == [("p1", 3, "Newer")]


def test_a_killed_run_is_repaired_to_the_current_version_not_a_newer_late_one(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [rec("A", us(20), 0), rec("B", us(25), 1), rec("Late", us(10), 2)], now=R1)
    shutil.rmtree(lake.silver("Patient"))  # the kill: current never written
    from deltalake import DeltaTable

    DeltaTable(lake.history("Patient")).update(updates={"valid_to": "NULL"}, predicate="version = 1")
    store.write(lake, "t", [rec("A", us(20), 0), rec("B", us(25), 1), rec("Late", us(10), 2)], now=R2)
    assert current(lake) == [("p1", 2, "B")]
    rows = {r["version"]: r for r in delta.read(lake.history("Patient")).to_pylist()}  # type: ignore[union-attr]
    assert [(v, r["reason"], r["valid_from"], r["valid_to"]) for v, r in sorted(rows.items())] == [
        (1, "initial", R1, R1),  # closed again where version 2 began (the same batch)
        (2, "correction", R1, None),
        (3, "late_arrival", R1, R1),
    ]


def _old_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f for f in schema if f.name != "source_time"])


def test_a_lake_written_before_valid_time_is_upgraded_in_place(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    old = _old_schema(HISTORY_SCHEMA)
    row = {
        "id": "p1", "resource_type": "Patient", "version": 1,
        "resource": '{"resourceType":"Patient","id":"p1","name":[{"family":"A"}],"meta":{"versionId":"1"}}',
        "content_hash": store.content_hash({"resourceType": "Patient", "id": "p1", "name": [{"family": "A"}]}),
        "patient_id": "p1", "source": "ehr", "source_system": "urn:x", "source_id": "src-p1", "last_updated": R1,
        "_tenant": "t", "_source": "ehr", "_object_sha256": "o0", "_object_name": "f.hl7", "_record_index": 0,
        "_batch_id": "b0", "valid_from": R1, "valid_to": None, "reason": "initial",
    }
    delta.append(lake.history("Patient"), pa.Table.from_pylist([row], schema=old))
    delta.append(lake.silver("Patient"), pa.Table.from_pylist([row], schema=old).select(CURRENT_SCHEMA.names))
    # a version with an earlier valid time than an old row's unknown one is a correction, not late
    stats = store.write(lake, "t", [rec("B", us(1), sha="o1")], now=R2)
    assert (stats.updated, stats.late_arrivals) == (1, 0)
    # and versions after it are ordered by valid time again
    stats = store.write(lake, "t", [rec("Late", us(1) - 1, sha="o2")], now=R3)
    assert stats.late_arrivals == 1
    schema = delta.read(lake.history("Patient")).schema  # type: ignore[union-attr]
    assert schema.field("source_time").type == TS
    assert history(lake) == [
        (1, "A", "initial", None, True),
        (2, "B", "correction", at(1), False),
        (3, "Late", "late_arrival", datetime(2025, 11, 30, 23, 59, 59, 999999, tzinfo=UTC), None),
    ]
    assert current(lake) == [("p1", 2, "B")]
