"""Delimited objects → bronze rows: the file's own columns as text, plus `_line` and lineage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from medlake.bronze.records import ObjectRef, delta_column, with_lineage
from medlake.config import FormatOptions
from medlake.errors import ParseError
from medlake.lake.quarantine import Quarantined


@dataclass
class BronzeOutput:
    kind: str | None
    table: pa.Table | None
    quarantined: list[Quarantined] = field(default_factory=list)
    records_read: int = 0


def to_bronze(data: bytes, fmt: FormatOptions, kind: str | None, known_kinds: list[str], obj: ObjectRef) -> BronzeOutput:
    """Parse one delimited object; bad rows and unreadable objects go to quarantine."""
    from medlake.formats.delimited import DelimitedOptions, parse_delimited

    if kind is None:
        reason = (
            f"`{obj.name}` matches no kind of the source's mapping spec; "
            f"its kinds are: {', '.join(known_kinds) or 'none'}. Add a `match` glob for it."
        )
        return BronzeOutput(None, None, [whole_object(obj, "file", reason)])
    options = DelimitedOptions(
        delimiter=fmt.delimiter, quote=fmt.quote, header=fmt.header, columns=fmt.columns, encoding=fmt.encoding
    )
    try:
        result = parse_delimited(data, options, name=obj.name, errors="collect")
    except ParseError as e:
        return BronzeOutput(kind, None, [whole_object(obj, str(e.context.get("position", "file")), str(e))])
    q = [
        Quarantined(
            source=obj.source,
            stage="bronze",
            object_sha256=obj.sha256,
            object_name=obj.name,
            record_index=p.record_index if p.record_index is not None else -1,
            position=p.position,
            reason=f"{obj.name}: {p.position}: {p.message}",
            raw=p.text,
        )
        for p in result.problems
    ]
    table = result.table
    names = [delta_column(c) for c in table.column_names]
    clash = _clashes(names, table.column_names)
    if clash:
        reason = (
            f"{obj.name}: header: columns {clash} become the same Delta column (Delta names are "
            "case-insensitive and cannot hold ` ,;{}()=` or tabs); rename them at the source or "
            "give `columns` in the source's format options"
        )
        return BronzeOutput(kind, None, [whole_object(obj, "header", reason)])
    table = table.rename_columns(names)
    # the record index is the row's position among the good rows; `_line` keeps the file position
    return BronzeOutput(kind, with_lineage(table, obj), q, result.rows_read)


def _clashes(names: list[str], original: list[str]) -> str:
    """Source columns that would land in one Delta column, e.g. `ID` and `id`, or `a b` and `a_b`."""
    seen: dict[str, str] = {}
    out: list[str] = []
    for name, orig in zip(names, original, strict=True):
        key = name.lower()
        if key in seen:
            out.append(f"`{seen[key]}` and `{orig}`")
        else:
            seen[key] = orig
    return ", ".join(out)


def whole_object(obj: ObjectRef, position: str, reason: str) -> Quarantined:
    """A quarantine entry for a whole object (record index -1, no raw text)."""
    return Quarantined(obj.source, "bronze", obj.sha256, obj.name, -1, position, reason, None)
