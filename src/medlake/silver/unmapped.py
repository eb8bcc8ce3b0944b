"""The unmapped report (`_meta/unmapped`): what a mapping left in bronze, counted.

One row per run batch × source × message type × segment id: how many segments of that kind
no mapping used (`segment` = `*` counts whole messages of a type that has no mapping). The
messages stay in bronze; this table is how a user finds what silver does not carry yet. The
`medlake sql` catalog shows it as `meta.unmapped`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

UNMAPPED_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("message_type", pa.string()),
        ("segment", pa.string()),
        ("count", pa.int64()),
        ("batch_id", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


def record(
    lake: TenantLake,
    source: str,
    segments: Counter[tuple[str, str]],
    messages: Counter[str],
    batch_id: str,
) -> None:
    rows = [
        {"source": source, "message_type": t, "segment": sid, "count": n} for (t, sid), n in sorted(segments.items())
    ] + [{"source": source, "message_type": t, "segment": "*", "count": n} for t, n in sorted(messages.items())]
    if not rows:
        return
    now = datetime.now(UTC)
    for r in rows:
        r["batch_id"] = batch_id
        r["recorded_at"] = now
    delta.append(lake.meta("unmapped"), pa.Table.from_pylist(rows, schema=UNMAPPED_SCHEMA), lake.delta_options())
