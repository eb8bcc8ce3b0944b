"""The `pyarrow.csv` fast path of `medlake.formats.delimited`, for quote-free UTF-8.

`pyarrow.csv` splits quote-free lines far faster than Python, but it knows nothing of `_line`
numbers, blank lines, lone CRs or ragged rows. `quote_free_start` says whether a whole file
can be read by it with exactly the generic path's result; `read_arrow_csv` reads quote-free
lines and gives up (None) on the first ragged one, so the generic path can report it. Which
columns a file has is decided by the caller, the same way for both paths.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


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


def read_arrow_csv(body: pa.Buffer, ncols: int, delim: str) -> pa.Table | None:
    """Split quote-free lines with `pyarrow.csv`: strings, empty → null; None if any is ragged."""
    import pyarrow.csv as pcsv  # only the fast paths need it

    ragged: list[int] = []

    def on_invalid_row(row: Any) -> str:
        ragged.append(1)
        return "skip"

    names = [f"f{k}" for k in range(ncols)]
    try:
        table = pcsv.read_csv(
            body,
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(
                delimiter=delim, quote_char=False, double_quote=False, escape_char=False,
                newlines_in_values=False, ignore_empty_lines=False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # e.g. a line longer than a block: let the generic path read it
        return None
    return None if ragged else table.combine_chunks()


def count_breaks(raw: bytes) -> dict[str, int]:
    """How many line breaks of each kind (`\\n`, `\\r\\n`, `\\r`) a quote-free file has."""
    if b"\r" not in raw:
        return {"\n": int(b"\n" in raw), "\r\n": 0, "\r": 0}  # presence is enough
    n_crlf = raw.count(b"\r\n")
    if b"\n" in raw:
        return {"\n": raw.count(b"\n") - n_crlf, "\r\n": n_crlf, "\r": 0}
    return {"\n": 0, "\r\n": 0, "\r": raw.count(b"\r")}
