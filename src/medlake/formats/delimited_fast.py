"""The `pyarrow.csv` fast path of `medlake.formats.delimited`, for quote-free UTF-8.

`pyarrow.csv` splits quote-free lines far faster than Python, but it knows nothing of `_line`
numbers, blank lines, lone CRs or ragged rows. `quote_free_start` says whether a whole file
can be read by it with exactly the generic path's result; `read_arrow_csv` reads quote-free
lines and gives up (None) on the first ragged one, so the generic path can report it. Which
columns a file has is decided by the caller, the same way for both paths. `arrow_csv` is the
one call to `pyarrow.csv`, shared with the quoted fast path (`delimited_quoted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def quote_free_start(raw: bytes, delimiter: str) -> tuple[list[str], int] | None:
    """The first line's fields and the offset of the next line, if `pyarrow.csv` may read `raw`.

    Only for a one-byte delimiter, a first line that is not blank, no blank line and no CR
    inside an LF/CRLF-terminated line; otherwise None.
    """
    delim = delimiter.encode("utf-8")
    if len(delim) != 1 or not raw or raw[:1] in (b"\r", b"\n") or b"\n\n" in raw:
        return None
    if b"\r" in raw:
        if b"\n" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
            return None
        if b"\r\r" in raw or b"\n\r\n" in raw:
            return None
    ends = [k for k in (raw.find(b"\n"), raw.find(b"\r")) if k >= 0]
    end = min(ends, default=len(raw))
    first = raw[:end].decode("utf-8").split(delimiter)
    return first, end + (2 if raw.startswith(b"\r\n", end) else 1)


BOM = b"\xef\xbb\xbf"
"""`pyarrow.csv` drops this at the start of what it reads; the generic path keeps it as text."""


@dataclass(frozen=True)
class BadRow:
    """A row `pyarrow.csv` skipped for its number of fields."""

    number: int | None  # 1-based among the rows read; only known when read on one thread
    text: str  # raw text, without the final line break
    found: int  # how many fields it has


def read_arrow_csv(body: pa.Buffer, ncols: int, delim: str) -> pa.Table | None:
    """Split quote-free lines with `pyarrow.csv`: strings, empty → null; None if any is ragged."""
    read = arrow_csv(body, ncols, delim)
    return None if read is None or read[1] else read[0]


def arrow_csv(
    body: pa.Buffer, ncols: int, delim: str, quote: str | None = None, threads: bool = True
) -> tuple[pa.Table, list[BadRow]] | None:
    """Read `body` with `pyarrow.csv` as `ncols` string columns, empty unquoted → null.

    With a `quote`, RFC 4180 quoting with line breaks inside quotes, and a quoted `""` is the
    empty string. Rows of another width are skipped and returned; None when Arrow gives up
    (e.g. a record longer than a block) or `body` starts with a BOM.
    """
    import pyarrow.csv as pcsv  # only the fast paths need it

    if body.size == 0 or body.slice(0, min(3, body.size)).to_pybytes() == BOM:
        return None
    bad: list[BadRow] = []

    def on_invalid_row(row: Any) -> str:
        bad.append(BadRow(row.number, row.text, row.actual_columns))
        return "skip"

    names = [f"f{k}" for k in range(ncols)]
    try:
        table = pcsv.read_csv(
            body,
            read_options=pcsv.ReadOptions(column_names=names, use_threads=threads),
            parse_options=pcsv.ParseOptions(
                delimiter=delim, quote_char=quote or False, double_quote=quote is not None,
                escape_char=False, newlines_in_values=quote is not None,
                # quoted: blank lines are skipped, and the caller's line count sees them;
                # quote-free: the callers have ruled blank lines out
                ignore_empty_lines=quote is not None,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # e.g. a line longer than a block: let the generic path read it
        return None
    return table.combine_chunks(), bad


def consecutive(first: int, n: int) -> pa.Array:
    """`first, first + 1, …` (`n` int64 values), without a Python list."""
    if n == 0:
        return pa.array([], type=pa.int64())
    return pc.add(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), first - 1)


def count_breaks(raw: bytes) -> dict[str, int]:
    """How many line breaks of each kind (`\\n`, `\\r\\n`, `\\r`) a quote-free file has."""
    if b"\r" not in raw:
        return {"\n": int(b"\n" in raw), "\r\n": 0, "\r": 0}  # presence is enough
    n_crlf = raw.count(b"\r\n")
    if b"\n" in raw:
        return {"\n": raw.count(b"\n") - n_crlf, "\r\n": n_crlf, "\r": 0}
    return {"\n": 0, "\r\n": 0, "\r": raw.count(b"\r")}
