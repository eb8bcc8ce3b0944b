"""The quarantine (`_meta/quarantine`): records and objects that could not be used, with why.

Each row names where (source, object, record index, position in the format's own notation)
and why. The raw text is kept so nothing is lost; it is PHI and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

QUARANTINE_SCHEMA = pa.schema(
    [
        ("tenant", pa.string()),
        ("source", pa.string()),
        ("stage", pa.string()),
        ("object_sha256", pa.string()),
        ("object_name", pa.string()),
        ("record_index", pa.int64()),  # -1 for the whole object
        ("position", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("batch_id", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Quarantined:
    source: str
    stage: str
    object_sha256: str
    object_name: str
    record_index: int
    position: str
    reason: str
    raw: str | None = None


def write(lake: TenantLake, items: list[Quarantined], batch_id: str) -> int:
    """Insert items; re-quarantining the same item (source, object, stage, record, position) is a no-op."""
    if not items:
        return 0
    now = datetime.now(UTC)
    rows = [{**item.__dict__, "tenant": lake.tenant, "batch_id": batch_id, "quarantined_at": now} for item in items]
    t = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
    delta.merge(
        lake.meta("quarantine"),
        t,
        on=["source", "object_sha256", "stage", "record_index", "position"],
        update=False,
        options=lake.delta_options(),
    )
    return len(items)
