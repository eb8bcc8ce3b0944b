"""Schema drift of delimited files: infer a file's column types and compare it with a schema.

Pure functions over Arrow tables of text columns (a bronze table without its lineage). The
registry that keeps schemas and applies the source's policy is `medlake.bronze.schemas`.

Types, from the values (empty values fit every type; a column with no value at all is `empty`):
`boolean` (true/false, y/n, yes/no, any case; not t/f, which are too often sex codes), `integer`, `decimal`, `date` (`YYYY-MM-DD`,
`M/D/YYYY`), `datetime` (a date with a time, optional seconds, fraction and offset), else
`string`. An integer fits `decimal`, a date fits `datetime`, everything fits `string`; so the
type of a column is the first of those, in that order, that every value fits. (`19800214` is an
integer: eight digits read as a number, not a date.)

Changes between a registered schema and a file, compared without regard to case:

- **added** / **removed** — a column only in the file / only in the schema;
- **renamed** — a removed and an added column that are the same column: the added column's
  values fit the removed one's type, *and* either the names are similar (after dropping case
  and punctuation one contains the other, or they are ≥ 75 % alike) or the column sits at the
  same position in the header. Each removed column (in schema order) takes the first such
  added column, a similar name before a same position;
- **retyped** — a column in both whose values no longer fit the registered type (counted);
- **reordered** — the columns in both (renamed ones under their new name) are in another order.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

TYPES = ("boolean", "integer", "decimal", "date", "datetime", "string")
"""Inferred types, narrowest first; `empty` is a column with no value."""

_DATE = r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}"
_TIME = r"[T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
_PATTERNS = {
    "boolean": r"(?i)^(true|false|y|n|yes|no)$",
    "integer": r"^[+-]?\d+$",
    "decimal": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
    "date": rf"^({_DATE})$",
    "datetime": rf"^({_DATE})({_TIME})?$",
}
SAMPLE = 1000
"""Values looked at to guess a column's type before the whole column is checked."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class Change:
    """One difference between a registered schema and a file."""

    kind: str
    """`added`, `removed`, `renamed`, `retyped`, `reordered` or `missing` (a required column)."""
    column: str
    text: str
    """How it reads in a reason and in `meta.schema_events`: `column PHONE renamed to HOME_PHONE`."""


def _values(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The non-empty values of a text column."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    arr = arr.drop_null()
    return arr.filter(pc.not_equal(pc.utf8_length(arr), 0))


def misfits(values: pa.Array, vtype: str) -> int:
    """How many of `values` (non-empty) do not fit `vtype`."""
    if vtype in ("string", "empty") or len(values) == 0:
        return 0
    fits = pc.match_substring_regex(values, _PATTERNS[vtype])
    return len(values) - int(pc.sum(fits).as_py() or 0)


def infer_type(column: pa.ChunkedArray | pa.Array) -> str:
    """The narrowest type every value of a text column fits (see module doc)."""
    values = _values(column)
    if len(values) == 0:
        return "empty"
    sample = values.slice(0, SAMPLE)
    for vtype in TYPES:
        if misfits(sample, vtype) == 0 and misfits(values, vtype) == 0:
            return vtype
    return "string"


def infer_columns(table: pa.Table) -> list[Column]:
    return [Column(name, infer_type(table.column(name))) for name in table.column_names]


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def similar(a: str, b: str) -> bool:
    """Names that are probably the same column (`PHONE` / `HOME_PHONE`, `Zip` / `ZIP_CODE`)."""
    x, y = _norm(a), _norm(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    if len(short) >= 3 and short in long:
        return True
    return difflib.SequenceMatcher(None, x, y).ratio() >= 0.75


def _renames(
    registered: list[Column], table: pa.Table, removed: list[str], added: list[str]
) -> dict[str, str]:
    """Removed column → the added column that is the same column (see module doc)."""
    types = {c.name: c.type for c in registered}
    old_pos = {c.name: i for i, c in enumerate(registered)}
    new_pos = {n: i for i, n in enumerate(table.column_names)}
    free = list(added)
    out: dict[str, str] = {}
    for old in removed:
        fitting = [a for a in free if misfits(_values(table.column(a)), types[old]) == 0]
        by_name = [a for a in fitting if similar(old, a)]
        by_place = [a for a in fitting if new_pos[a] == old_pos[old]]
        choices = by_name or by_place
        if choices:
            out[old] = choices[0]
            free.remove(choices[0])
    return out


def compare(registered: list[Column], table: pa.Table) -> list[Change]:
    """What changed from `registered` to the columns and values of `table` (text columns only)."""
    names = table.column_names
    reg_by_key = {c.name.casefold(): c for c in registered}
    new_keys = {n.casefold(): n for n in names}
    removed = [c.name for c in registered if c.name.casefold() not in new_keys]
    added = [n for n in names if n.casefold() not in reg_by_key]
    renames = _renames(registered, table, removed, added)
    changes = [Change("renamed", old, f"column {old} renamed to {new}") for old, new in renames.items()]
    changes += [Change("added", n, f"column {n} added") for n in added if n not in renames.values()]
    changes += [Change("removed", n, f"column {n} removed") for n in removed if n not in renames]
    for col in registered:
        name = new_keys.get(col.name.casefold())
        if name is None:
            continue
        values = _values(table.column(name))
        bad = misfits(values, col.type)
        if bad:
            now = infer_type(values)
            changes.append(Change(
                "retyped", name,
                f"column {name} retyped {col.type} → {now} ({bad} of {len(values)} values are not {col.type})",
            ))  # fmt: skip
    before = [renames.get(c.name) or new_keys.get(c.name.casefold()) for c in registered]
    common = [n for n in before if n is not None]
    now_order = [n for n in names if n in set(common)]
    if common != now_order:
        changes.append(Change("reordered", "", f"columns reordered: {', '.join(now_order)}"))
    return changes


def missing_required(required: tuple[str, ...], names: list[str]) -> list[Change]:
    """Columns the mapping spec declares that the file does not have."""
    have = {n.casefold() for n in names}
    return [Change("missing", r, f"required column {r} missing") for r in required if r.casefold() not in have]


def evolved(registered: list[Column], table: pa.Table, observed: list[Column]) -> list[Column]:
    """The next version: the file's columns, each keeping its registered type where its values
    still fit it (a column that was `empty` takes the file's type)."""
    reg = {c.name.casefold(): c.type for c in registered}
    out = []
    for col in observed:
        old = reg.get(col.name.casefold())
        keep = old not in (None, "empty") and misfits(_values(table.column(col.name)), old or "string") == 0
        out.append(Column(col.name, old if keep and old else col.type))
    return out
