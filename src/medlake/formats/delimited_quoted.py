"""The `pyarrow.csv` fast path of `medlake.formats.delimited` for files with quoted fields.

`pyarrow.csv` reads RFC 4180 quoting (doubled quotes, line breaks inside quotes) an order of
magnitude faster than the state machine, but it accepts two things the state machine reports
as broken — text after a closing quote (`"x"y` reads as `xy`) and a quote never closed — and
it knows nothing of `_line`, blank lines or lone CRs. So a file is read here only when:

- the delimiter and the quote are one byte each, and a file with LF has no lone CR (Arrow
  breaks lines at every CR);
- its first line is a whole record (`first_record`): the header, or the width of the rows;
- its body matches the grammar the state machine reads, checked in one RE2 pass: every field
  is unquoted and does not start with the quote, or quoted and closed right before a delimiter,
  a line break or the end. On such a text both readers cut the same records the same way;
- no blank line sits between records (trailing ones are fine): the body's physical lines must
  be exactly one per record plus the line breaks inside quoted values.

`_line` is rebuilt from the line breaks inside each record's values. A ragged record is
reported with its record number (a second, single-threaded read numbers them), start line and
raw text. Anything else gives None, and the generic path runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from medlake.formats.delimited_fast import BOM, BadRow, arrow_csv, consecutive
from medlake.formats.delimited_lines import split_quoted_line


@dataclass
class Ragged:
    """A record with the wrong number of fields."""

    index: int  # 0-based among the records after the header
    line: int  # 1-based physical line where it starts
    found: int  # how many fields it has
    text: str  # its raw text, without the final line break


@dataclass
class QuotedTable:
    """The good records' columns and `_line`, the ragged ones, and the breaks outside values."""

    columns: list[pa.Array]
    lines: pa.Array
    ragged: list[Ragged]
    records: int  # good and ragged
    breaks: dict[str, int]  # line breaks of each kind in the file, outside quoted values


def first_record(raw: bytes, delimiter: str, quote: str) -> tuple[list[str], int] | None:
    """The first line's fields and the offset of the next line, if `read_quoted` may read `raw`.

    None unless the delimiter and the quote are one byte each, the first line is not blank, is
    followed by a line break and is a whole record, and a file with LF has no lone CR.
    """
    delim, q = delimiter.encode("utf-8"), quote.encode("utf-8")
    if len(delim) != 1 or len(q) != 1 or q in b"\r\n" or raw[:1] in (b"", b"\r", b"\n"):
        return None
    has_lf = b"\n" in raw
    if has_lf and b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    end = raw.find(b"\n" if has_lf else b"\r")
    if end < 0:
        return None
    line = raw[:end].decode("utf-8").removesuffix("\r")
    fields = split_quoted_line(line, delimiter, quote) if quote in line else line.split(delimiter)
    return None if fields is None else ([f or "" for f in fields], end + 1)


def read_quoted(
    raw: bytes, start: int, ncols: int, delimiter: str, quote: str, first_line: int
) -> QuotedTable | None:
    """Read the records of `raw[start:]` (after `first_record` said yes), or None to decline."""
    body, end = _body(raw, start)
    if body is None or not _matches_grammar(body, delimiter, quote):
        return None
    read = arrow_csv(body, ncols, delimiter, quote)
    if read is not None and read[1]:  # ragged records: read again, on one thread, to number them
        read = arrow_csv(body, ncols, delimiter, quote, threads=False)
    if read is None:
        return None
    table, bad = read
    nl = "\n" if b"\n" in raw else "\r"
    records = table.num_rows + len(bad)
    body_breaks = raw.count(nl.encode(), start, end)
    inside = body_breaks + 1 - records  # line breaks inside values, if no blank line
    per_row = _breaks_per_row(table, nl) if inside > 0 else None
    bad_breaks = [row.text.count(nl) for row in bad]
    found = 0 if per_row is None else pc.sum(per_row).as_py() or 0
    if found + sum(bad_breaks) != inside:
        return None  # blank lines between records
    indices = [row.number - 1 for row in bad if row.number is not None]
    if len(indices) != len(bad) or indices != sorted(set(indices)) or indices[-1:] > [records - 1]:
        return None
    lines, ragged = _line_numbers(per_row, table.num_rows, first_line, bad, indices, bad_breaks)
    n_breaks = body_breaks + raw.count(nl.encode(), 0, start) + raw.count(nl.encode(), end)
    breaks = _outside_breaks(raw, n_breaks, table, bad, inside)
    return QuotedTable([_array(c) for c in table.columns], lines, ragged, records, breaks)


def _body(raw: bytes, start: int) -> tuple[pa.Buffer | None, int]:
    """What Arrow reads: `raw[start:]` less trailing blank lines (skipped by both paths), but
    with one final line break, and where the records end (before that break)."""
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":
        end -= 1
    if end == start or raw.startswith(BOM, start):  # Arrow would drop a BOM the text keeps
        return None, end
    # Arrow reads a last field left empty at the very end (`1,"x",` with no line break) as
    # quoted, so `""` instead of null: the body always ends with a line break
    tail = 2 if raw.startswith(b"\r\n", end) else int(end < len(raw))
    if not tail:
        return pa.py_buffer(raw[start:] + b"\n"), end
    return pa.py_buffer(raw).slice(start, end + tail - start), end


def _array(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


@lru_cache(maxsize=16)
def _grammar(delimiter: str, quote: str) -> str:
    """The records the state machine reads without a problem, as one RE2 pattern."""
    d, q = f"\\x{ord(delimiter):02x}", f"\\x{ord(quote):02x}"
    quoted = f"{q}(?:[^{q}]|{q}{q})*{q}"  # any text, line breaks too; the quote doubled
    unquoted = f"(?:[^{q}{d}\\r\\n][^{d}\\r\\n]*)?"  # may hold the quote, but not first
    field = f"(?:{quoted}|{unquoted})"
    record = f"{field}(?:{d}{field})*"
    return f"\\A(?:{record}(?:\\r\\n|\\n|\\r))*{record}\\z"


def _matches_grammar(body: pa.Buffer, delimiter: str, quote: str) -> bool:
    offsets = pa.array([0, body.size], type=pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, body])
    try:
        return bool(pc.match_substring_regex(text, _grammar(delimiter, quote))[0].as_py())
    except pa.ArrowException:  # e.g. RE2 out of memory: not known to match
        return False


def _breaks_per_row(table: pa.Table, nl: str) -> pa.Array:
    """How many line breaks each record's values hold (each one starts a physical line)."""
    total = pa.repeat(pa.scalar(0, pa.int64()), table.num_rows)
    for column in table.columns:
        counts = pc.count_substring(_array(column), nl)
        if pc.max(counts).as_py():
            total = pc.add(total, pc.fill_null(pc.cast(counts, pa.int64()), 0))
    return total


def _line_numbers(
    per_row: pa.Array | None, rows: int, first_line: int, bad: list[BadRow], indices: list[int],
    bad_breaks: list[int],
) -> tuple[pa.Array, list[Ragged]]:
    """`_line` of the good records, and the ragged ones (record `indices[j]`) with theirs.

    Good record `i` starts at `first_line + i + (breaks inside the good records before it)`,
    plus one line and the inner breaks of each ragged record before it.
    """
    if per_row is None and not bad:
        return consecutive(first_line, rows), []
    breaks = per_row if per_row is not None else pa.repeat(pa.scalar(0, pa.int64()), rows)
    step = pc.add(breaks, 1)
    if bad:
        extra = [0] * (rows + 1)
        for j, (index, inner) in enumerate(zip(indices, bad_breaks, strict=True)):
            extra[index - j] += 1 + inner  # index - j: how many good records come before it
        step = pc.add(step, pa.array(extra[:rows], type=pa.int64()))
    lines = pc.subtract(pc.add(pc.cumulative_sum(step), first_line - 1), breaks)
    good_inner = pc.cumulative_sum(breaks)  # inner breaks of good records 0..i
    ragged: list[Ragged] = []
    inner_before = 0
    for j, (row, index, inner) in enumerate(zip(bad, indices, bad_breaks, strict=True)):
        good_before = index - j
        before = good_inner[good_before - 1].as_py() if good_before and per_row is not None else 0
        ragged.append(Ragged(index, first_line + index + before + inner_before, row.found, row.text))
        inner_before += inner
    return lines, ragged


def _outside_breaks(
    raw: bytes, n_breaks: int, table: pa.Table, bad: list[BadRow], inside: int
) -> dict[str, int]:
    """The file's line breaks of each kind (`n_breaks` LF, or CR if no LF), less those inside
    quoted values (`inside` of them)."""
    if b"\n" not in raw:
        return {"\n": 0, "\r\n": 0, "\r": n_breaks - inside}
    n_crlf = crlf_inside = 0
    if b"\r" in raw:
        n_crlf = raw.count(b"\r\n")
        if inside:
            crlf_inside = sum(row.text.count("\r\n") for row in bad) + sum(
                pc.sum(pc.count_substring(column, "\r\n")).as_py() or 0 for column in table.columns
            )
    return {"\n": n_breaks - n_crlf - (inside - crlf_inside), "\r\n": n_crlf - crlf_inside, "\r": 0}
