"""The manifest (`_meta/manifest`): every landed object and what became of it.

Append-only events; an object's status is its latest event:

    landed       bytes stored under their SHA-256
    duplicate    the same bytes arrived again (a no-op, recorded)
    bronzed      parsed into bronze (records written; some may be quarantined)
    quarantined  the whole object could not be read (reason names where and why)
    pending      landed; this source kind has no bronze parser yet
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from medlake.lake import delta
from medlake.lake.paths import TenantLake

TS = pa.timestamp("us", tz="UTC")
MANIFEST_SCHEMA = pa.schema(
    [
        ("tenant", pa.string()),
        ("source", pa.string()),
        ("object_sha256", pa.string()),
        ("object_key", pa.string()),
        ("original_name", pa.string()),
        ("size", pa.int64()),
        ("received_at", TS),
        ("event", pa.string()),
        ("reason", pa.string()),
        ("batch_id", pa.string()),
        ("event_at", TS),
    ]
)


@dataclass(frozen=True)
class ObjectInfo:
    source: str
    sha256: str
    key: str
    original_name: str
    size: int
    received_at: datetime
    status: str
    reason: str | None


@dataclass(frozen=True)
class Event:
    source: str
    sha256: str
    key: str
    original_name: str
    size: int
    received_at: datetime
    event: str
    reason: str | None = None
    batch_id: str | None = None


def record(lake: TenantLake, events: Iterable[Event]) -> int:
    now = datetime.now(UTC)
    rows = [
        {
            "tenant": lake.tenant,
            "source": e.source,
            "object_sha256": e.sha256,
            "object_key": e.key,
            "original_name": e.original_name,
            "size": e.size,
            "received_at": e.received_at,
            "event": e.event,
            "reason": e.reason,
            "batch_id": e.batch_id,
            "event_at": now,
        }
        for e in events
    ]
    if rows:
        delta.append(lake.meta("manifest"), pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA), lake.delta_options())
    return len(rows)


def objects(lake: TenantLake, source: str | None = None) -> dict[str, ObjectInfo]:
    """Latest status of every object (optionally of one source), keyed by `source/sha256`."""
    flt = pc.field("source") == source if source else None
    t = delta.read(lake.meta("manifest"), filter=flt, options=lake.delta_options())
    out: dict[str, ObjectInfo] = {}
    if t is None:
        return out
    t = t.sort_by([("event_at", "ascending")])
    for r in t.to_pylist():
        k = f"{r['source']}/{r['object_sha256']}"
        prev = out.get(k)
        status = r["event"]
        if prev is not None and status == "duplicate":
            status = prev.status  # a duplicate arrival does not change what became of the object
        out[k] = ObjectInfo(
            source=r["source"],
            sha256=r["object_sha256"],
            key=(prev.key if prev else r["object_key"]),
            original_name=(prev.original_name if prev else r["original_name"]),
            size=r["size"],
            received_at=(prev.received_at if prev else r["received_at"]),
            status=status,
            reason=r["reason"] if status == r["event"] else (prev.reason if prev else None),
        )
    return out


def names(lake: TenantLake) -> set[tuple[str, str, str]]:
    """(source, original_name, sha256) of every arrival recorded — the fast path for re-scans."""
    t = delta.read(
        lake.meta("manifest"), columns=["source", "original_name", "object_sha256"], options=lake.delta_options()
    )
    if t is None:
        return set()
    cols = [t.column(c).to_pylist() for c in ("source", "original_name", "object_sha256")]
    return set(zip(*cols, strict=True))
