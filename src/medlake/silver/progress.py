"""Which bronze objects each downstream stage has consumed (`_meta/progress`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from medlake.lake import delta
from medlake.lake.paths import TenantLake

PROGRESS_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("object_sha256", pa.string()),
        ("batch_id", pa.string()),
        ("done_at", pa.timestamp("us", tz="UTC")),
    ]
)


def done(lake: TenantLake, stage: str, source: str, kind: str) -> set[str]:
    flt = (pc.field("stage") == stage) & (pc.field("source") == source) & (pc.field("kind") == kind)
    t = delta.read(lake.meta("progress"), columns=["object_sha256"], filter=flt, options=lake.delta_options())
    return set() if t is None else set(t.column("object_sha256").to_pylist())


def mark(lake: TenantLake, stage: str, source: str, kind: str, shas: list[str], batch_id: str) -> None:
    now = datetime.now(UTC)
    rows = [
        {"stage": stage, "source": source, "kind": kind, "object_sha256": s, "batch_id": batch_id, "done_at": now}
        for s in shas
    ]
    delta.append(lake.meta("progress"), pa.Table.from_pylist(rows, schema=PROGRESS_SCHEMA), lake.delta_options())
