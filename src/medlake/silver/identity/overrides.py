"""Manual link/unlink decisions, kept in `silver/identity/overrides` and honoured by every run.

One row per decision: `record_a, record_b, action (link|unlink), reason, at`, append-only (the
table is the audit trail of who-decided-what, with the reason). For each unordered pair of
records the newest decision wins: `link` becomes a must-link of the matcher, `unlink` a
cannot-link. `medlake identity link A B --reason …` and `unlink` write here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from medlake.errors import ConfigError
from medlake.lake import delta
from medlake.lake.paths import TenantLake

TS = pa.timestamp("us", tz="UTC")
ACTIONS = ("link", "unlink")

OVERRIDES_SCHEMA = pa.schema(
    [
        pa.field("record_a", pa.string(), nullable=False),
        pa.field("record_b", pa.string(), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("at", TS, nullable=False),
    ]
)


def add_override(lake: TenantLake, record_a: str, record_b: str, action: str, reason: str,
                 at: datetime | None = None) -> None:
    """Record a decision about two silver Patient ids (validated by the caller to exist)."""
    if action not in ACTIONS:
        raise ConfigError(f"override action `{action}` is not one of {', '.join(ACTIONS)}", action=action)
    if record_a == record_b:
        raise ConfigError(f"cannot {action} patient `{record_a}` with itself; name two different patients",
                          record_id=record_a)
    if not reason.strip():
        raise ConfigError(f"a manual {action} needs a reason (e.g. --reason \"confirmed by registration desk\")")
    a, b = sorted((record_a, record_b))
    row = pa.table(
        {"record_a": [a], "record_b": [b], "action": [action], "reason": [reason.strip()],
         "at": [at or datetime.now(UTC)]},
        schema=OVERRIDES_SCHEMA,
    )
    delta.append(lake.identity("overrides"), row, lake.delta_options())


def read_overrides(lake: TenantLake) -> pa.Table:
    t = delta.read(lake.identity("overrides"), options=lake.delta_options())
    return OVERRIDES_SCHEMA.empty_table() if t is None else t.select(OVERRIDES_SCHEMA.names).cast(OVERRIDES_SCHEMA)


def decisions(overrides: pa.Table) -> dict[tuple[str, str], str]:
    """(record_a, record_b) → the newest action for that pair (ties: the later row)."""
    cols = (overrides.column(c).to_pylist() for c in ("record_a", "record_b", "action", "at"))
    rows = sorted(enumerate(zip(*cols, strict=True)), key=lambda x: (x[1][3], x[0]))
    return {(a, b): action for _, (a, b, action, _) in rows}


def constraints(lake: TenantLake, known: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(must_link, cannot_link) pairs from the overrides whose records both still exist."""
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    for (a, b), action in sorted(decisions(read_overrides(lake)).items()):
        if a in known and b in known:
            (must if action == "link" else cannot).append((a, b))
    return must, cannot
