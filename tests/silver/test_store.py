"""Silver store: unchanged is a no-op, a change is a new version, history keeps everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver import store


def _rec(rid: str, family: str, idx: int = 0, rtype: str = "Patient") -> store.SilverRecord:
    res: dict[str, Any] = {"resourceType": rtype, "id": rid, "name": [{"family": family}], "meta": {"source": "urn:x"}}
    return store.SilverRecord(rid, rtype, res, rid, "ehr", "urn:x", f"src-{rid}", "sha", "f.txt", idx, "b1")


def _rows(uri: str) -> list[dict[str, Any]]:
    t = delta.read(uri)
    return [] if t is None else sorted(t.to_pylist(), key=lambda r: (r["id"], r["version"]))


def test_versions_and_history(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    s1 = store.write(lake, "t", [_rec("p1", "Smith"), _rec("p2", "Jones")])
    assert (s1.inserted, s1.updated, s1.unchanged) == (2, 0, 0)
    s2 = store.write(lake, "t", [_rec("p1", "Smith"), _rec("p2", "Jones-Lee")])
    assert (s2.inserted, s2.updated, s2.unchanged) == (0, 1, 1)
    cur = _rows(lake.silver("Patient"))
    assert [(r["id"], r["version"]) for r in cur] == [("p1", 1), ("p2", 2)]
    p2 = orjson.loads(cur[1]["resource"])
    assert p2["name"][0]["family"] == "Jones-Lee" and p2["meta"]["versionId"] == "2"
    hist = _rows(lake.history("Patient"))
    assert [(r["id"], r["version"], r["reason"]) for r in hist] == [
        ("p1", 1, "initial"),
        ("p2", 1, "initial"),
        ("p2", 2, "correction"),
    ]
    assert hist[1]["valid_to"] == hist[2]["valid_from"]  # v1 closed when v2 arrived
    assert hist[0]["valid_to"] is None and hist[2]["valid_to"] is None


def test_two_changes_in_one_batch_keep_both_versions(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [_rec("p1", "A", 0), _rec("p1", "B", 1), _rec("p1", "B", 2)])
    hist = _rows(lake.history("Patient"))
    assert [(r["version"], orjson.loads(r["resource"])["name"][0]["family"]) for r in hist] == [(1, "A"), (2, "B")]
    assert hist[0]["valid_to"] is not None
    assert [r["version"] for r in _rows(lake.silver("Patient"))] == [2]


def test_rewriting_after_a_partial_write_duplicates_nothing(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [_rec("p1", "A")])
    # a run died after writing history v2 but before updating current
    import pyarrow as pa

    from medlake.silver.schema import HISTORY_SCHEMA

    row = _rows(lake.history("Patient"))[0]
    row.update(version=2, resource=orjson.dumps({**orjson.loads(row["resource"]), "name": [{"family": "B"}]}).decode())
    row["content_hash"] = store.content_hash(orjson.loads(row["resource"]))
    delta.append(lake.history("Patient"), pa.Table.from_pylist([row], schema=HISTORY_SCHEMA))
    store.write(lake, "t", [_rec("p1", "B")])  # the re-run
    hist = _rows(lake.history("Patient"))
    assert [r["version"] for r in hist] == [1, 2]
    assert [r["version"] for r in _rows(lake.silver("Patient"))] == [2]


def test_content_hash_ignores_meta() -> None:
    a = {"resourceType": "Patient", "id": "x", "meta": {"versionId": "1"}}
    b = {"resourceType": "Patient", "id": "x", "meta": {"versionId": "7", "source": "y"}}
    assert store.content_hash(a) == store.content_hash(b)
    assert store.content_hash(a) != store.content_hash({**a, "gender": "male"})


def test_replaying_a_batch_with_a_record_and_its_correction_adds_no_versions(tmp_path: Path) -> None:
    """A run that died after the store but before the progress mark replays the whole chunk."""
    lake = TenantLake.open(str(tmp_path), "t")
    batch = [_rec("p1", "A", 0), _rec("p1", "B", 1)]
    store.write(lake, "t", [_rec("p1", "A", 0), _rec("p1", "B", 1)])
    stats = store.write(lake, "t", batch)  # the replay
    assert (stats.inserted, stats.updated) == (0, 0)
    hist = _rows(lake.history("Patient"))
    assert [(r["version"], orjson.loads(r["resource"])["name"][0]["family"]) for r in hist] == [(1, "A"), (2, "B")]
    assert [r["version"] for r in _rows(lake.silver("Patient"))] == [2]


def test_a_run_killed_between_history_and_current_is_repaired(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    store.write(lake, "t", [_rec("p1", "A", 0), _rec("p1", "B", 1)])
    # simulate the kill: current lost its row, and v1 was never closed
    import shutil

    from deltalake import DeltaTable

    shutil.rmtree(lake.silver("Patient"))
    DeltaTable(lake.history("Patient")).update(updates={"valid_to": "NULL"}, predicate="version = 1")
    store.write(lake, "t", [_rec("p1", "A", 0), _rec("p1", "B", 1)])
    cur = _rows(lake.silver("Patient"))
    assert [(r["id"], r["version"]) for r in cur] == [("p1", 2)]
    hist = _rows(lake.history("Patient"))
    assert [r["version"] for r in hist] == [1, 2]
    assert hist[0]["valid_to"] == hist[1]["valid_from"]
