"""The time-adjustment report (`_meta/time_adjustments`): local times silver had to adjust.

One row per run batch × source × kind × zone: how many converted values had a local time
that was `ambiguous` (fall-back: read as the first occurrence) or `nonexistent`
(spring-forward gap: shifted forward by the gap) in the source's zone (see
`medlake.silver.mappings.local_time`). Each of those values also carries a time-adjustment
extension beside its original text in the resource. Counts only, never values. The
`medlake sql` catalog shows it as `meta.time_adjustments`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver.mappings.local_time import RESOLUTIONS

TIME_ADJUSTMENTS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("kind", pa.string()),
        ("resolution", pa.string()),
        ("zone", pa.string()),
        ("count", pa.int64()),
        ("batch_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def record(lake: TenantLake, source: str, counts: Counter[tuple[str, str]], batch_id: str) -> None:
    """Append the (kind, zone) → count of one mapping call; nothing when there is none."""
    if not counts:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "source": source, "kind": kind, "resolution": RESOLUTIONS[kind], "zone": zone, "count": n,
            "batch_id": batch_id, "recorded_at": now,
        }
        for (kind, zone), n in sorted(counts.items())
    ]  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=TIME_ADJUSTMENTS_SCHEMA)
    delta.append(lake.meta("time_adjustments"), table, lake.delta_options())
