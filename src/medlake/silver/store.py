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
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver.schema import CURRENT_SCHEMA, HISTORY_SCHEMA, TS


@dataclass(slots=True)
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
    """SHA-256 of the resource's JSON without `meta` (keys in the order the mapper built them)."""
    body = {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


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


def _state(uri: str, lake: TenantLake, ids: list[str], cols: list[str] | None) -> pa.Table | None:
    return delta.read_where_in(uri, "id", ids, columns=cols, options=lake.delta_options())


class _Version(NamedTuple):
    rec: SilverRecord
    version: int
    content_hash: str
    json: str
    previous: int | None


def _versions(
    recs: list[SilverRecord],
    current: dict[str, tuple[int, str]],
    stats: StoreStats,
    applied: set[tuple[str, str, int, str]] | frozenset[tuple[str, str, int, str]] = frozenset(),
) -> list[_Version]:
    """New versions of the records, in arrival order; unchanged records are skipped.

    Hot path: the incoming resource dicts are owned by the batch, so `meta` is popped for the
    hash and put back instead of copying the resource.
    """
    out: list[_Version] = []
    dumps, sha256 = orjson.dumps, hashlib.sha256
    inserted = updated = unchanged = 0
    get = current.get
    for r in recs:
        res = r.resource
        meta = res.pop("meta", None)
        body = dumps(res)  # mappers build keys in a fixed order, so the bytes are canonical
        h = sha256(body).hexdigest()
        prev = get(r.id)
        if (prev is not None and prev[1] == h) or (applied and (r.id, r.object_sha256, r.record_index, h) in applied):
            if meta is not None:
                res["meta"] = meta
            unchanged += 1
            continue
        if prev is None:
            version, previous = 1, None
            inserted += 1
        else:
            previous = prev[0]
            version = previous + 1
            updated += 1
        res["meta"] = meta = {**(meta or {}), "versionId": str(version)}
        text = body.decode()
        json = f'{text[:-1]},"meta":{dumps(meta).decode()}}}' if len(text) > 2 else f'{{"meta":{dumps(meta).decode()}}}'
        out.append(_Version(r, version, h, json, previous))
        current[r.id] = (version, h)
    stats.inserted += inserted
    stats.updated += updated
    stats.unchanged += unchanged
    return out


def _history_table(versions: list[_Version], tenant: str, rtype: str, now: datetime, reason: str) -> pa.Table:
    """History-schema rows of `versions`, built column by column. The current-schema rows
    are a selection of its columns (`_current`)."""
    n = len(versions)
    recs = [v.rec for v in versions]
    stamp = _constant_ts(now, n)
    sources = [r.source for r in recs]
    cols: list[Any] = [
        [r.id for r in recs],
        _constant_str(rtype, n),
        [v.version for v in versions],
        [v.json for v in versions],
        [v.content_hash for v in versions],
        [r.patient_id for r in recs],
        sources,
        [r.source_system for r in recs],
        [r.source_id for r in recs],
        stamp,
        _constant_str(tenant, n),
        sources,
        [r.object_sha256 for r in recs],
        [r.object_name for r in recs],
        [r.record_index for r in recs],
        [r.batch_id for r in recs],
        stamp,
        pa.nulls(n, TS),
        ["initial" if v.version == 1 else reason for v in versions],
    ]
    arrays = [c if isinstance(c, pa.Array) else pa.array(c, f.type) for c, f in zip(cols, HISTORY_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=HISTORY_SCHEMA)


def _current(hist: pa.Table, rows: list[int]) -> pa.Table:
    """The current-schema rows at positions `rows` of a history table."""
    current = hist.select(CURRENT_SCHEMA.names)
    if len(rows) != hist.num_rows:  # else `rows` is every position in order: one version per id
        current = current.take(pa.array(rows, pa.int64()))
    return current.cast(CURRENT_SCHEMA)


def _constant_str(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _constant_ts(when: datetime, n: int) -> pa.Array:
    micros = int(when.timestamp() * 1_000_000)
    return pa.array([micros] * n, pa.int64()).cast(TS)


@dataclass
class _History:
    """What history already holds for a batch's ids: the state an interrupted run left."""

    applied: set[tuple[str, str, int, str]] = field(default_factory=set)  # (id, object, record, hash)
    latest: dict[str, tuple[int, str]] = field(default_factory=dict)  # id → (version, hash)
    open_versions: dict[str, list[tuple[int, datetime]]] = field(default_factory=dict)  # valid_to null
    versions: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def read(cls, uri: str, lake: TenantLake, ids: list[str]) -> _History:
        h = cls()
        cols = ["id", "version", "content_hash", "_object_sha256", "_record_index", "valid_from", "valid_to"]
        t = _state(uri, lake, ids, cols)
        if t is None:
            return h
        for i, v, c, sha, idx, vf, vt in zip(*(t.column(n).to_pylist() for n in cols), strict=True):
            h.applied.add((i, sha, idx, c))
            h.versions.add((i, v))
            if v > h.latest.get(i, (0, ""))[0]:
                h.latest[i] = (v, c)
            if vt is None:
                h.open_versions.setdefault(i, []).append((v, vf))
        return h


def _write_type(
    lake: TenantLake, tenant: str, rtype: str, recs: list[SilverRecord], now: datetime, reason: str, stats: StoreStats
) -> None:
    """Apply one batch of one resource type.

    Idempotent even when a previous run died half-way: records whose lineage (object, record
    index) history already holds are not applied again, versions continue from the newest in
    history, and current and the `valid_to` of older versions are brought up to history.
    """
    opts = lake.delta_options()
    cur_uri, hist_uri = lake.silver(rtype), lake.history(rtype)
    ids = list({r.id for r in recs})
    cur = _state(cur_uri, lake, ids, ["id", "version", "content_hash"])
    current: dict[str, tuple[int, str]] = {}
    if cur is not None:
        cols = (cur.column(c).to_pylist() for c in ("id", "version", "content_hash"))
        current = {i: (v, h) for i, v, h in zip(*cols, strict=True)}
    existing = set(current)
    before = _History.read(hist_uri, lake, ids)
    state = dict(current)
    for i, (v, h) in before.latest.items():
        if v > state.get(i, (0, ""))[0]:
            state[i] = (v, h)
    # a record history already holds from the same object and record, with the same content, was
    # applied by an earlier (interrupted) run: replaying it must not add versions
    versions = _versions(recs, state, stats, before.applied)
    lagging = [i for i, (v, _) in before.latest.items() if v > current.get(i, (0, ""))[0]]
    if not versions and not lagging:
        return
    newest: dict[str, int] = {}  # id → position of its newest version, ids in first-seen order
    for pos, ver in enumerate(versions):
        newest[ver.rec.id] = pos
    stats.by_type[rtype] = stats.by_type.get(rtype, 0) + len(newest)
    hist = _history_table(versions, tenant, rtype, now, reason)
    keep = pa.array([(v.rec.id, v.version) not in before.versions for v in versions], pa.bool_())
    delta.append(hist_uri, hist.filter(keep), opts)
    _close_versions(hist_uri, before, versions, now, opts)
    delta.append(cur_uri, _current(hist, [i for k, i in newest.items() if k not in existing]), opts)
    changed = [i for k, i in newest.items() if k in existing]
    if changed:
        delta.merge(cur_uri, _current(hist, changed), on=["id"], insert=True, options=opts)
    repair = [i for i in lagging if i not in newest]  # history got ahead of current in a killed run
    if repair:
        _repair_current(lake, cur_uri, hist_uri, repair, before, opts)


def _close_versions(uri: str, before: _History, versions: list[_Version], now: datetime, opts: dict[str, str]) -> None:
    """Set `valid_to` of every version that is no longer the newest (new ones, and any an
    interrupted run left open)."""
    closes: dict[tuple[str, int], datetime] = {}
    for v in versions:
        if v.previous is not None:
            closes[(v.rec.id, v.previous)] = now
    for i, open_ in before.open_versions.items():
        newest = before.latest[i][0]
        starts = dict(open_)
        for version, _ in open_:
            if version < newest and (i, version) not in closes:
                closes[(i, version)] = starts.get(version + 1) or now
    if not closes:
        return
    t = pa.table(
        {
            "id": [k[0] for k in closes],
            "version": pa.array([k[1] for k in closes], pa.int64()),
            "valid_to": pa.array(list(closes.values()), TS),
        }
    )
    delta.merge(uri, t, on=["id", "version"], insert=False, update_set={"valid_to": "s.valid_to"},
                update_when="t.valid_to IS NULL", options=opts)


def _repair_current(lake: TenantLake, cur_uri: str, hist_uri: str, ids: list[str], before: _History, opts: dict[str, str]) -> None:
    rows = _state(hist_uri, lake, ids, None)
    assert rows is not None
    newest = pa.array(
        [before.latest[i][0] == v for i, v in zip(rows.column("id").to_pylist(), rows.column("version").to_pylist(), strict=True)],
        pa.bool_(),
    )
    fixed = rows.filter(newest).select(CURRENT_SCHEMA.names).cast(CURRENT_SCHEMA)
    delta.merge(cur_uri, fixed, on=["id"], insert=True, options=opts)
