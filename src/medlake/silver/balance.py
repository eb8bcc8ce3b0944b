"""X12 balancing results (`_meta/x12_balance`): data-quality facts, not parse failures.

One row per check per claim, line or payment: the rule (`CLP03 - CLP04 = sum(CAS)` …), what
was checked (`claim PCN123`), the expected and actual amounts and whether they balance. A
re-run writes the same rows again under the same key (source, object, record, rule, subject):
the table does not grow. `medlake sql` shows it as `meta.x12_balance`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_common import Balance

_CENT = Decimal("0.01")

BALANCE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("object_sha256", pa.string()),
        ("object_name", pa.string()),
        ("record_index", pa.int64()),
        ("rule", pa.string()),
        ("subject", pa.string()),
        ("expected", pa.decimal128(18, 2)),
        ("actual", pa.decimal128(18, 2)),
        ("difference", pa.decimal128(18, 2)),
        ("balanced", pa.bool_()),
        ("batch_id", pa.string()),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


def record(
    lake: TenantLake,
    source: str,
    balances: list[Balance],
    shas: list[str],
    names: list[str],
    record_indexes: list[int],
    batch_id: str,
) -> None:
    if not balances:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "source": source,
            "object_sha256": shas[b.record_index],
            "object_name": names[b.record_index],
            "record_index": record_indexes[b.record_index],
            "rule": b.rule,
            "subject": b.subject,
            "expected": b.expected.quantize(_CENT),
            "actual": b.actual.quantize(_CENT),
            "difference": (b.expected - b.actual).quantize(_CENT),
            "balanced": b.balanced,
            "batch_id": batch_id,
            "checked_at": now,
        }
        for b in balances
    ]
    delta.merge(
        lake.meta("x12_balance"),
        pa.Table.from_pylist(rows, schema=BALANCE_SCHEMA),
        on=["source", "object_sha256", "record_index", "rule", "subject"],
        update=False,
        options=lake.delta_options(),
    )

