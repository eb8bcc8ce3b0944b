"""Scored pairs in the lake: the review list and the evidence of every link.

The review list (`silver/identity/review`): pairs the matcher was not sure about.

One row per pair of records scored in the review band (`review_probability` ≤ p <
`link_probability`): `record_id_l, record_id_r, probability, match_weight, rule, evidence`
(the matcher's JSON: which fields agreed, their weights) and `status`:

- `open`      nobody has decided yet
- `linked`    a manual `link` override decided the pair (they are one person now)
- `unlinked`  a manual `unlink` override decided it (never the same person)
- `same_person` undecided, but other links already put both records in one person

A pair stays on the list once seen (decided pairs keep their row, with the status). The table
is rewritten only when its contents change, so a run with no new data writes nothing.

`silver/identity/pairs` holds every pair the latest run scored (link or review, with the
evidence), the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from medlake.lake import delta
from medlake.lake.paths import TenantLake

REVIEW_SCHEMA = pa.schema(
    [
        pa.field("record_id_l", pa.string(), nullable=False),
        pa.field("record_id_r", pa.string(), nullable=False),
        pa.field("probability", pa.float64()),
        pa.field("match_weight", pa.float64()),
        pa.field("rule", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("status", pa.string(), nullable=False),
    ]
)
_KEY = ("record_id_l", "record_id_r")
_VALUES = ("probability", "match_weight", "rule", "evidence")


def read_review(lake: TenantLake) -> pa.Table:
    t = delta.read(lake.identity("review"), options=lake.delta_options())
    return REVIEW_SCHEMA.empty_table() if t is None else t.select(REVIEW_SCHEMA.names).cast(REVIEW_SCHEMA)


def _rows(t: pa.Table) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["record_id_l"], r["record_id_r"]): r for r in t.to_pylist()}


def updated_review(
    current: pa.Table, pairs: pa.Table, decided: dict[tuple[str, str], str], persons: Mapping[str, str] | None = None
) -> pa.Table:
    """The new review list: every pair ever in the band, this run's scores, the status from
    the overrides (`decided`: sorted pair → link|unlink), else `same_person` when other links
    already put both records in one person (`persons`: record → person of this run), else open."""
    rows = _rows(current)
    band = pairs.filter(pc.equal(pairs.column("decision"), "review"))
    for p in band.select([*_KEY, *_VALUES]).to_pylist():
        a, b = sorted((p["record_id_l"], p["record_id_r"]))
        old = rows.get((a, b), {})
        rows[(a, b)] = {**old, **p, "record_id_l": a, "record_id_r": b}
    for key, row in rows.items():
        action = decided.get(key)
        joined = persons is not None and key[0] in persons and persons.get(key[0]) == persons.get(key[1])
        row["status"] = {"link": "linked", "unlink": "unlinked"}.get(action or "", "same_person" if joined else "open")
    ordered = [rows[k] for k in sorted(rows)]
    return pa.Table.from_pylist(ordered, schema=REVIEW_SCHEMA)


def write_review(lake: TenantLake, current: pa.Table, new: pa.Table) -> bool:
    """Overwrite the review table when `new` differs from `current`; True when written."""
    if new.num_rows == 0 and current.num_rows == 0:
        return False
    if current.sort_by([(k, "ascending") for k in _KEY]).equals(new):
        return False
    delta.overwrite(lake.identity("review"), new, lake.delta_options())
    return True


# -- every scored pair of the latest run: the evidence `medlake identity show` prints ----------
PAIRS_SCHEMA = pa.schema(
    [
        pa.field("record_id_l", pa.string(), nullable=False),
        pa.field("record_id_r", pa.string(), nullable=False),
        pa.field("probability", pa.float64()),
        pa.field("match_weight", pa.float64()),
        pa.field("rule", pa.string()),
        pa.field("decision", pa.string()),
        pa.field("evidence", pa.string()),
    ]
)


def write_pairs(lake: TenantLake, pairs: pa.Table) -> bool:
    """Overwrite `silver/identity/pairs` with this run's scored pairs when they changed."""
    new = pairs.select(PAIRS_SCHEMA.names).cast(PAIRS_SCHEMA)
    new = new.sort_by([(k, "ascending") for k in _KEY])
    old = delta.read(lake.identity("pairs"), options=lake.delta_options())
    if old is not None and old.select(PAIRS_SCHEMA.names).cast(PAIRS_SCHEMA).sort_by([(k, "ascending") for k in _KEY]).equals(new):
        return False
    delta.overwrite(lake.identity("pairs"), new, lake.delta_options())
    return True
