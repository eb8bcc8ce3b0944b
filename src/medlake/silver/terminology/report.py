"""The unmapped-codes report (`_meta/unmapped_codes`, `meta.unmapped_codes` in `medlake sql`).

One row per source × code system × code × reason: how many codings silver could not
normalize, and the first and last run batch that saw them. Codes only, never patient data.
Reasons:

    icd9-not-in-gem    an ICD-9-CM code the CMS GEM does not know
    icd9-no-map        the GEM says the ICD-9-CM code has no ICD-10-CM equivalent
    icd10-invalid      an ICD-10-CM code not in the service date's fiscal-year list
    ndc-invalid        not an NDC in any known layout
    ndc-ambiguous      a 10-digit NDC without hyphens that no concept map resolves
    ndc-no-rxnorm      a valid NDC whose concept has no RxNorm coding (add an NDC → RxNorm map)
    local-unmapped     a local code whose concept has no standard coding (add a concept map row)
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

TABLE = "unmapped_codes"

UNMAPPED_CODES_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("system", pa.string(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("first_batch", pa.string()),
        pa.field("last_batch", pa.string()),
        pa.field("first_seen_at", pa.timestamp("us", tz="UTC")),
        pa.field("last_seen_at", pa.timestamp("us", tz="UTC")),
    ]
)


def rows(source: str, unmapped: Counter[tuple[str, str, str]], batch_id: str, now: datetime) -> pa.Table:
    """One batch's counts as report rows (sorted, so the table is deterministic)."""
    items = sorted(unmapped.items())
    return pa.Table.from_pydict(
        {
            "source": [source] * len(items),
            "system": [k[0] for k, _ in items],
            "code": [k[1] for k, _ in items],
            "reason": [k[2] for k, _ in items],
            "count": [n for _, n in items],
            "first_batch": [batch_id] * len(items),
            "last_batch": [batch_id] * len(items),
            "first_seen_at": [now] * len(items),
            "last_seen_at": [now] * len(items),
        },
        schema=UNMAPPED_CODES_SCHEMA,
    )


def record(lake: TenantLake, source: str, unmapped: Counter[tuple[str, str, str]], batch_id: str) -> None:
    """Add one batch's counts: new codes are inserted, known ones get their count and last batch updated.

    With nothing to add the table is still created (empty), so `meta.unmapped_codes` can be
    queried on a lake where every code was normalized."""
    if not unmapped:
        _create_empty(lake)
        return
    delta.merge(
        lake.meta(TABLE),
        rows(source, unmapped, batch_id, datetime.now(UTC)),
        on=("source", "system", "code", "reason"),
        update_set={"count": "t.count + s.count", "last_batch": "s.last_batch", "last_seen_at": "s.last_seen_at"},
        options=lake.delta_options(),
    )


def _create_empty(lake: TenantLake) -> None:
    uri, options = lake.meta(TABLE), lake.delta_options()
    if not delta.exists(uri, options):
        from deltalake import DeltaTable

        DeltaTable.create(uri, schema=UNMAPPED_CODES_SCHEMA, mode="ignore", storage_options=options or None)
