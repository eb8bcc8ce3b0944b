"""Helpers for the mapping tests: read delimited text as the pipeline would hand it over."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from medlake.silver.mappings.delimited import MappingContext

CTX = MappingContext(
    tenant="acme",
    source="clinic",
    system="urn:acme:clinic",
    timezone="America/Chicago",
    systems={"lab": "urn:acme:lab"},
)


def read_table(path: Path, delimiter: str = ",") -> pa.Table:
    """All-string columns, nulls for empty fields, plus `_line` — what the pipeline gives.

    Uses `medlake.formats.delimited.parse_delimited` when it exists, else pyarrow's reader.
    """
    data = path.read_bytes()
    try:
        from medlake.formats.delimited import DelimitedOptions, parse_delimited
    except ImportError:
        return arrow_table(data, delimiter)
    result: Any = parse_delimited(data, DelimitedOptions(delimiter=delimiter), name=path.name)
    assert result.problems == [], result.problems
    table: pa.Table = result.table
    return table


def arrow_table(data: bytes, delimiter: str = ",") -> pa.Table:
    header = data.decode("utf-8").splitlines()[0].split(delimiter)
    table = pacsv.read_csv(
        io.BytesIO(data),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.append_column("_line", pa.array(range(2, table.num_rows + 2), pa.int64()))


def rows_table(rows: list[dict[str, str | None]]) -> pa.Table:
    """A table from row dicts (every column a string column)."""
    names = list(rows[0]) if rows else []
    cols = {n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}
    cols["_line"] = pa.array(range(2, len(rows) + 2), pa.int64())
    return pa.table(cols)
