"""Silver resource tables: current (`silver/fhir/<Type>`) and history (`silver/history/<Type>`).

A record whose content is unchanged is a no-op. A changed record becomes a new version: the
history gets the new version (valid from now, reason) and the previous version is closed
(valid_to), then current is updated. Every write is idempotent, so a run killed at any point
can simply be run again: history rows are keyed on (id, version), current on id.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver.schema import CURRENT_SCHEMA, HISTORY_SCHEMA


@dataclass(frozen=True)
class SilverRecord:
    """One resource as a mapping produced it, with where it came from."""

    id: str
    resource_type: str
    resource: dict[str, Any]
    patient_id: str | None
    source: str
    source_system: str
    source_id: str
    object_sha256: str
    object_name: str
    record_index: int
    batch_id: str


@dataclass
class StoreStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def content_hash(resource: dict[str, Any]) -> str:
    body = {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write(lake: TenantLake, tenant: str, records: Iterable[SilverRecord], reason: str = "correction") -> StoreStats:
    """Upsert records (in arrival order) into current and history."""
    by_type: dict[str, list[SilverRecord]] = defaultdict(list)
    for r in records:
        by_type[r.resource_type].append(r)
    stats = StoreStats()
    now = datetime.now(UTC)
    for rtype, recs in sorted(by_type.items()):
        _write_type(lake, tenant, rtype, recs, now, reason, stats)
    return stats


def _state(uri: str, lake: TenantLake, ids: list[str], cols: list[str]) -> pa.Table | None:
    return delta.read_where_in(uri, "id", ids, columns=cols, options=lake.delta_options())


def _write_type(
    lake: TenantLake, tenant: str, rtype: str, recs: list[SilverRecord], now: datetime, reason: str, stats: StoreStats
) -> None:
    opts = lake.delta_options()
    cur_uri, hist_uri = lake.silver(rtype), lake.history(rtype)
    ids = list({r.id for r in recs})
    cur = _state(cur_uri, lake, ids, ["id", "version", "content_hash"])
    current: dict[str, tuple[int, str]] = {}
    if cur is not None:
        for i, v, h in zip(*(cur.column(c).to_pylist() for c in ("id", "version", "content_hash")), strict=True):
            current[i] = (v, h)
    latest: dict[str, dict[str, Any]] = {}  # id -> current row to write
    history: list[dict[str, Any]] = []
    closing: list[dict[str, Any]] = []
    for r in recs:
        h = content_hash(r.resource)
        prev = current.get(r.id)
        if prev is not None and prev[1] == h:
            stats.unchanged += 1
            continue
        version = prev[0] + 1 if prev else 1
        resource = dict(r.resource)
        meta = dict(resource.get("meta") or {})
        meta["versionId"] = str(version)
        resource["meta"] = meta
        row = {
            "id": r.id,
            "resource_type": rtype,
            "version": version,
            "resource": orjson.dumps(resource).decode(),
            "content_hash": h,
            "patient_id": r.patient_id,
            "source": r.source,
            "source_system": r.source_system,
            "source_id": r.source_id,
            "last_updated": now,
            "_tenant": tenant,
            "_source": r.source,
            "_object_sha256": r.object_sha256,
            "_object_name": r.object_name,
            "_record_index": r.record_index,
            "_batch_id": r.batch_id,
        }
        history.append({**row, "valid_from": now, "valid_to": None, "reason": "initial" if version == 1 else reason})
        if prev is not None:
            closing.append({"id": r.id, "version": prev[0], "valid_to": now})
            if r.id in latest:
                stats.updated += 1  # a second change within one batch
            elif r.id not in latest:
                stats.updated += 1
        else:
            stats.inserted += 1
        current[r.id] = (version, h)
        latest[r.id] = row
    if not latest:
        return
    stats.by_type[rtype] = stats.by_type.get(rtype, 0) + len(latest)
    _write_history(hist_uri, lake, history, closing, opts)
    cur_rows = pa.Table.from_pylist(list(latest.values()), schema=CURRENT_SCHEMA)
    existing = set(cur.column("id").to_pylist()) if cur is not None else set()
    new_mask = pa.array([i not in existing for i in cur_rows.column("id").to_pylist()])
    delta.append(cur_uri, cur_rows.filter(new_mask), opts)
    changed = cur_rows.filter(pc.invert(new_mask))
    if changed.num_rows:
        delta.merge(cur_uri, changed, on=["id"], insert=True, options=opts)


def _write_history(
    uri: str, lake: TenantLake, history: list[dict[str, Any]], closing: list[dict[str, Any]], opts: dict[str, str]
) -> None:
    hist = pa.Table.from_pylist(history, schema=HISTORY_SCHEMA)
    # drop versions already written by an earlier, interrupted run
    have = _state(uri, lake, list({h["id"] for h in history}), ["id", "version"])
    if have is not None and have.num_rows:
        seen = set(zip(have.column("id").to_pylist(), have.column("version").to_pylist(), strict=True))
        keep = pa.array([(i, v) not in seen for i, v in zip(hist.column("id").to_pylist(), hist.column("version").to_pylist(), strict=True)])
        hist = hist.filter(keep)
    delta.append(uri, hist, opts)
    # close earlier versions, including versions superseded within this batch
    within = [{"id": h["id"], "version": h["version"] - 1, "valid_to": h["valid_from"]} for h in history if h["version"] > 1]
    closes = {(c["id"], c["version"]): c for c in [*closing, *within]}
    if closes:
        t = pa.Table.from_pylist(
            list(closes.values()),
            schema=pa.schema([("id", pa.string()), ("version", pa.int64()), ("valid_to", pa.timestamp("us", tz="UTC"))]),
        )
        delta.merge(uri, t, on=["id", "version"], insert=False, update_set={"valid_to": "s.valid_to"},
                    update_when="t.valid_to IS NULL", options=opts)
