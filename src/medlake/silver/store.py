"""Silver resource tables: current (`silver/fhir/<Type>`) and history (`silver/history/<Type>`).

A record whose content is unchanged is a no-op. A changed record becomes a new version: the
history gets the new version (valid from now, reason) and the previous version is closed
(valid_to), then current is updated. Every write is idempotent, so a run killed at any point
can simply be run again: history rows are keyed on (id, version), current on id.

History is bitemporal. `valid_from`/`valid_to` are record time: when the version was the lake's
current one. `source_time` is valid time: when the source says the version became true
(`SilverRecord.source_time_us`). A changed record whose valid time is earlier than the current
version's is a late arrival: it gets the next version number and reason `late_arrival`, its
record interval is empty (`valid_to = valid_from`: it never was current), and current keeps the
newer version. History rows are only ever appended, apart from closing `valid_to`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    source_time_us: int | None = None
    """Valid time: when the source says this version became true, in microseconds since the
    Unix epoch (UTC). None: unknown, the version is ordered by arrival only."""


@dataclass
class StoreStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    late_arrivals: int = 0  # kept in history, not made current (counted apart from `updated`)
    by_type: dict[str, int] = field(default_factory=dict)


def content_hash(resource: dict[str, Any]) -> str:
    """SHA-256 of the resource's JSON without `meta` (keys in the order the mapper built them)."""
    body = {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(orjson.dumps(body)).hexdigest()


def write(
    lake: TenantLake, tenant: str, records: Iterable[SilverRecord], reason: str = "correction", now: datetime | None = None
) -> StoreStats:
    """Upsert records (in arrival order) into current and history; `now` is the record time
    (default: the clock; tests and backfills pass one)."""
    by_type: dict[str, list[SilverRecord]] = defaultdict(list)
    for r in records:
        by_type[r.resource_type].append(r)
    stats = StoreStats()
    stamp = _micros(now or datetime.now(UTC))
    for rtype, recs in sorted(by_type.items()):
        _write_type(lake, tenant, rtype, recs, stamp, reason, stats)
    return stats


def _state(uri: str, lake: TenantLake, ids: list[str], cols: list[str] | None) -> pa.Table | None:
    return delta.read_where_in(uri, "id", ids, columns=cols, options=lake.delta_options())


class _Version(NamedTuple):
    rec: SilverRecord
    version: int
    content_hash: str
    json: str
    previous: int | None  # the current version this one supersedes (None: first, or late)
    late: bool


class _Head(NamedTuple):
    """Where one id stands: its last version number, and its current version."""

    last: int
    version: int
    content_hash: str
    source_time: int | None


def _versions(
    recs: list[SilverRecord],
    state: dict[str, _Head],
    stats: StoreStats,
    applied: set[tuple[str, str, int, str]] | frozenset[tuple[str, str, int, str]] = frozenset(),
) -> list[_Version]:
    """New versions of the records, in arrival order; unchanged records are skipped; a record
    whose valid time is before its current version's becomes a late (never current) version.

    Hot path: the incoming resource dicts are owned by the batch, so `meta` is popped for the
    hash and put back instead of copying the resource.
    """
    out: list[_Version] = []
    dumps, sha256 = orjson.dumps, hashlib.sha256
    inserted = updated = unchanged = late_n = 0
    get = state.get
    for r in recs:
        res = r.resource
        meta = res.pop("meta", None)
        body = dumps(res)  # mappers build keys in a fixed order, so the bytes are canonical
        h = sha256(body).hexdigest()
        prev = get(r.id)
        if (prev is not None and prev.content_hash == h) or (applied and (r.id, r.object_sha256, r.record_index, h) in applied):
            if meta is not None:
                res["meta"] = meta
            unchanged += 1
            continue
        t = r.source_time_us
        late = prev is not None and t is not None and prev.source_time is not None and t < prev.source_time
        if prev is None:
            version, previous = 1, None
            inserted += 1
        elif late:
            version, previous = prev.last + 1, None
            late_n += 1
        else:
            version, previous = prev.last + 1, prev.version
            updated += 1
        res["meta"] = meta = {**(meta or {}), "versionId": str(version)}
        text = body.decode()
        json = f'{text[:-1]},"meta":{dumps(meta).decode()}}}' if len(text) > 2 else f'{{"meta":{dumps(meta).decode()}}}'
        out.append(_Version(r, version, h, json, previous, late))
        state[r.id] = prev._replace(last=version) if late and prev is not None else _Head(version, version, h, t)
    stats.inserted += inserted
    stats.updated += updated
    stats.unchanged += unchanged
    stats.late_arrivals += late_n
    return out


def _history_table(versions: list[_Version], tenant: str, rtype: str, now: int, reason: str) -> pa.Table:
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
        _late_valid_to(versions, now),
        ["initial" if v.version == 1 else "late_arrival" if v.late else reason for v in versions],
        pa.array([r.source_time_us for r in recs], pa.int64()).cast(TS),
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


def _constant_ts(micros: int, n: int) -> pa.Array:
    return pa.array([micros] * n, pa.int64()).cast(TS)


def _late_valid_to(versions: list[_Version], now: int) -> pa.Array:
    """Record-time end: open (null), except a late arrival's, which ends where it starts."""
    if not any(v.late for v in versions):
        return pa.nulls(len(versions), TS)
    return pa.array([now if v.late else None for v in versions], pa.int64()).cast(TS)


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_HISTORY_STATE = ["id", "version", "content_hash", "_object_sha256", "_record_index", "valid_from", "valid_to", "reason", "source_time"]


@dataclass
class _History:
    """What history already holds for a batch's ids: the state an interrupted run left."""

    applied: set[tuple[str, str, int, str]] = field(default_factory=set)  # (id, object, record, hash)
    latest: dict[str, int] = field(default_factory=dict)  # id → last version number
    head: dict[str, tuple[int, str]] = field(default_factory=dict)  # id → newest version not late
    times: dict[tuple[str, int], int | None] = field(default_factory=dict)  # (id, version) → source_time
    starts: dict[str, dict[int, int]] = field(default_factory=dict)  # id → version not late → valid_from
    open_versions: dict[str, list[int]] = field(default_factory=dict)  # valid_to null

    @classmethod
    def read(cls, uri: str, lake: TenantLake, ids: list[str]) -> _History:
        h = cls()
        t = _state(uri, lake, ids, _HISTORY_STATE)
        if t is None:
            return h
        cols = [_column_list(t, n) for n in _HISTORY_STATE]
        for i, v, c, sha, idx, vf, vt, why, st in zip(*cols, strict=True):
            h.applied.add((i, sha, idx, c))
            h.times[(i, v)] = st
            if v > h.latest.get(i, 0):
                h.latest[i] = v
            if why == "late_arrival":
                continue
            h.starts.setdefault(i, {})[v] = vf
            if v > h.head.get(i, (0, ""))[0]:
                h.head[i] = (v, c)
            if vt is None:
                h.open_versions.setdefault(i, []).append(v)
        return h

    def state(self, current: dict[str, tuple[int, str]]) -> dict[str, _Head]:
        """Each id's head: numbering continues after the last version anywhere, and the current
        version is history's newest non-late one when current lags behind it (a killed run)."""
        out: dict[str, _Head] = {}
        for i in current.keys() | self.latest.keys():
            last = max(self.latest.get(i, 0), current.get(i, (0, ""))[0])
            cur = current.get(i)
            head = self.head.get(i)
            version, digest = head if head and (cur is None or head[0] > cur[0]) else cur or (0, "")
            if version:
                out[i] = _Head(last, version, digest, self.times.get((i, version)))
        return out


def _column_list(t: pa.Table, name: str) -> list[Any]:
    """A column as Python values (timestamps as microseconds); all null when a table written
    before the column existed lacks it."""
    if name not in t.column_names:
        return [None] * t.num_rows
    col = t.column(name)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    values: list[Any] = col.to_pylist()
    return values


def _write_type(
    lake: TenantLake, tenant: str, rtype: str, recs: list[SilverRecord], now: int, reason: str, stats: StoreStats
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
    # a record history already holds from the same object and record, with the same content, was
    # applied by an earlier (interrupted) run: replaying it must not add versions
    versions = _versions(recs, before.state(current), stats, before.applied)
    lagging = [i for i, (v, _) in before.head.items() if v > current.get(i, (0, ""))[0]]
    if not versions and not lagging:
        return
    newest: dict[str, int] = {}  # id → position of its newest current version, ids in first-seen order
    for pos, ver in enumerate(versions):
        if not ver.late:
            newest[ver.rec.id] = pos
    stats.by_type[rtype] = stats.by_type.get(rtype, 0) + len({v.rec.id for v in versions})
    hist = _history_table(versions, tenant, rtype, now, reason)
    keep = pa.array([(v.rec.id, v.version) not in before.times for v in versions], pa.bool_())
    delta.append(hist_uri, hist.filter(keep), opts)
    _close_versions(hist_uri, before, versions, now, opts)
    delta.append(cur_uri, _current(hist, [i for k, i in newest.items() if k not in existing]), opts)
    changed = [i for k, i in newest.items() if k in existing]
    if changed:
        delta.merge(cur_uri, _current(hist, changed), on=["id"], insert=True, options=opts)
    repair = [i for i in lagging if i not in newest]  # history got ahead of current in a killed run
    if repair:
        _repair_current(lake, cur_uri, hist_uri, repair, before, opts)


def _close_versions(uri: str, before: _History, versions: list[_Version], now: int, opts: dict[str, str]) -> None:
    """Set `valid_to` of every version that is no longer current (those new versions
    supersede, and any an interrupted run left open)."""
    closes: dict[tuple[str, int], int] = {}
    for v in versions:
        if v.previous is not None:
            closes[(v.rec.id, v.previous)] = now
    for i, open_ in before.open_versions.items():
        starts = before.starts[i]
        for version in open_:
            later = [v for v in starts if v > version]
            if later and (i, version) not in closes:
                closes[(i, version)] = starts[min(later)]
    if not closes:
        return
    t = pa.table(
        {
            "id": [k[0] for k in closes],
            "version": pa.array([k[1] for k in closes], pa.int64()),
            "valid_to": pa.array(list(closes.values()), pa.int64()).cast(TS),
        }
    )
    delta.merge(uri, t, on=["id", "version"], insert=False, update_set={"valid_to": "s.valid_to"},
                update_when="t.valid_to IS NULL", options=opts)


def _repair_current(lake: TenantLake, cur_uri: str, hist_uri: str, ids: list[str], before: _History, opts: dict[str, str]) -> None:
    rows = _state(hist_uri, lake, ids, None)
    assert rows is not None
    newest = pa.array(
        [before.head[i][0] == v for i, v in zip(rows.column("id").to_pylist(), rows.column("version").to_pylist(), strict=True)],
        pa.bool_(),
    )
    fixed = rows.filter(newest).select(CURRENT_SCHEMA.names).cast(CURRENT_SCHEMA)
    delta.merge(cur_uri, fixed, on=["id"], insert=True, options=opts)
