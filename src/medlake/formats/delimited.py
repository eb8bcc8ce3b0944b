"""Delimited text (CSV, pipe, tab, `^|^` …) → one Arrow table of strings, losslessly.

Rules: RFC 4180 quoting (a field that *starts* with the quote character may hold delimiters,
doubled quotes and line breaks; a quote character inside an unquoted field is kept as
text); LF, CRLF and CR line endings; blank lines skipped; a final line break optional;
whitespace kept; an unquoted empty field is null, a quoted empty field `""` is the empty
string. Each record carries `_line`, the 1-based physical line where it starts.

A file that uses LF (or CRLF) breaks its lines only at LF: a lone CR inside a line is data.
Only a file with no LF at all is read as CR-terminated.

Speed: a file with a one-byte delimiter is read whole by `pyarrow.csv` when that gives
exactly the same result: `medlake.formats.delimited_fast` for quote-free files,
`medlake.formats.delimited_quoted` for files with quoted fields. Otherwise (generic path) lines
without the quote character are split by Arrow (`split_pattern`, `list_element`) and only lines
holding it go through the state machine in `medlake.formats.delimited_lines`. Decoding is
`medlake.formats.encoding`; `detect_encoding` and `decode_text` are re-exported here.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from medlake.errors import ConfigError, ErrorLevel, ParseError
from medlake.formats.delimited_fast import (
    consecutive,
    count_breaks,
    quote_free_start,
    read_arrow_csv,
)
from medlake.formats.delimited_lines import Lines, Record, raw_text, scan, split_lines, terminator
from medlake.formats.delimited_quoted import first_record, read_quoted
from medlake.formats.encoding import decode_text, detect_encoding
from medlake.formats.problems import Problem, line_position, report

__all__ = [
    "LINE_COLUMN",
    "DelimitedOptions",
    "DelimitedResult",
    "decode_text",
    "detect_encoding",
    "parse_delimited",
]

LINE_COLUMN = "_line"


@dataclass(frozen=True)
class DelimitedOptions:
    """How to read one delimited feed (the `format` options of a source)."""

    delimiter: str = ","
    quote: str | None = '"'
    header: bool = True
    columns: tuple[str, ...] | None = None
    encoding: str = "auto"

    def __post_init__(self) -> None:
        if not self.delimiter or "\n" in self.delimiter or "\r" in self.delimiter:
            raise ConfigError(
                f"delimiter {self.delimiter!r} is not allowed; use a non-empty string without "
                "line breaks, e.g. `,`, `|`, `\\t` or `^|^`"
            )
        if self.quote is not None and (len(self.quote) != 1 or self.quote in self.delimiter):
            raise ConfigError(
                f"quote {self.quote!r} is not allowed; use one character that is not part of "
                f"the delimiter {self.delimiter!r}, or no quoting (`quote: null`)"
            )
        if self.columns is not None and self.header:
            raise ConfigError(
                "`columns` names the columns of a file without a header line; "
                "set `header: false` with it, or drop `columns` to use the header"
            )


@dataclass
class DelimitedResult:
    """The parsed table, its columns, the bad records, and what was detected."""

    table: pa.Table
    columns: list[str]
    problems: list[Problem]
    encoding: str
    line_terminator: str
    rows_read: int


# ------------------------------------------------------------------------------ header


@dataclass
class _Layout:
    columns: list[str]
    header_line: int | None = None  # index of the header's physical line, if any
    records: list[int] = field(default_factory=list)  # simple line indices, header removed
    parsed: list[Record] = field(default_factory=list)


def _layout(
    lines: Lines, simple: list[int], parsed: list[Record], options: DelimitedOptions, name: str
) -> _Layout:
    first_simple = simple[0] if simple else None
    first_parsed = parsed[0] if parsed else None
    if not options.header:
        columns = list(options.columns) if options.columns is not None else []
        if not columns and (first_simple is not None or first_parsed is not None):
            if first_parsed is not None and (first_simple is None or first_parsed.start < first_simple):
                width = len(first_parsed.fields)
            else:
                width = len(lines.lines[first_simple or 0].split(options.delimiter))
            columns = [f"column_{k}" for k in range(1, width + 1)]
        _check_columns(columns, None, name)
        return _Layout(columns, None, simple, parsed)
    if first_simple is None and first_parsed is None:
        raise ParseError(
            f"`{name}`: the file is empty; expected a header line with the column names "
            "(or set `header: false` and declare `columns`)",
            file=name,
        )
    if first_parsed is not None and (first_simple is None or first_parsed.start < first_simple):
        if first_parsed.error is not None:
            at_line, at_col = first_parsed.error_at
            where = line_position(at_line + 1, at_col + 1)
            raise ParseError(
                f"`{name}`: {where}: in the header, {first_parsed.error}",
                file=name, line=at_line + 1, position=where,
            )
        header = [f or "" for f in first_parsed.fields]
        layout = _Layout(header, first_parsed.start, simple, parsed[1:])
    else:
        assert first_simple is not None
        header = lines.lines[first_simple].split(options.delimiter)
        layout = _Layout(header, first_simple, simple[1:], parsed)
    _check_columns(header, layout.header_line, name)
    return layout


def _check_columns(columns: list[str], header_line: int | None, name: str) -> None:
    where = f"line {header_line + 1:,}: " if header_line is not None else ""
    what = "the header" if header_line is not None else "the declared `columns`"
    blank = [str(k) for k, c in enumerate(columns, 1) if not c.strip()]
    if blank:
        raise ParseError(
            f"`{name}`: {where}{what} has blank column names at positions {', '.join(blank)}; "
            "every column needs a name",
            file=name, line=None if header_line is None else header_line + 1,
        )
    seen: dict[str, list[int]] = {}
    for k, c in enumerate(columns, 1):
        seen.setdefault(c, []).append(k)
    dupes = [f"`{c}` (positions {', '.join(map(str, ks))})" for c, ks in seen.items() if len(ks) > 1]
    if LINE_COLUMN in seen:
        dupes.append(f"`{LINE_COLUMN}` (reserved for the line number)")
    if dupes:
        raise ParseError(
            f"`{name}`: {where}{what} names columns more than once: {'; '.join(dupes)}; "
            "column names must be unique",
            file=name, line=None if header_line is None else header_line + 1,
        )


# ------------------------------------------------------------------------------- table


@dataclass
class _Bad:
    start: int  # first physical line index of the record
    end: int  # last physical line index
    message: str
    at: tuple[int, int] | None = None  # (line index, column) when the problem has a column


def _ragged(found: int, expected: int, is_last: bool, ends_with_break: bool) -> str:
    message = f"expected {expected:,} fields, found {found:,}"
    if is_last and found < expected and not ends_with_break:
        message += "; the file ends without a line break, it may be truncated"
    return message


def _last_content(lines: Lines) -> int:
    last = len(lines.lines) - 1
    while last > 0 and not lines.lines[last]:
        last -= 1
    return last


def _simple_table(
    lines: Lines, layout: _Layout, delim: str, bad: list[_Bad], ends_with_break: bool
) -> pa.Table:
    """The records of quote-free lines, split by Arrow; ragged ones go to `bad`."""
    names = [*layout.columns, LINE_COLUMN]
    texts = [lines.lines[i] for i in layout.records]
    line_numbers = pa.array([i + 1 for i in layout.records], type=pa.int64())
    if _FAST_PATH and texts and len(delim.encode("utf-8")) == 1:
        joined = "\n".join(texts)
        if "\r" not in joined:
            body = pa.py_buffer(joined.encode("utf-8"))
            fast = read_arrow_csv(body, len(layout.columns), delim)
            if fast is not None:
                return pa.Table.from_arrays([*fast.columns, line_numbers], names=names)
    ncols = len(layout.columns)
    splits = pc.split_pattern(pa.array(texts, type=pa.string()), pattern=delim)
    found = pc.list_value_length(splits)
    wrong = pc.not_equal(found, ncols)
    if texts and pc.any(wrong).as_py():
        last = _last_content(lines)
        for k in pc.indices_nonzero(wrong).to_pylist():
            i = layout.records[k]
            count = found[k].as_py()
            bad.append(_Bad(i, i, _ragged(count, ncols, i >= last, ends_with_break)))
        keep = pc.invert(wrong)
        splits, line_numbers = splits.filter(keep), line_numbers.filter(keep)
    null = pa.scalar(None, pa.string())
    arrays: list[Any] = []
    for k in range(ncols):
        column = pc.list_element(splits, k) if len(splits) else pa.array([], pa.string())
        arrays.append(pc.if_else(pc.equal(column, ""), null, column))
    return pa.Table.from_arrays([*arrays, line_numbers], names=names)


def _parsed_table(
    lines: Lines, layout: _Layout, bad: list[_Bad], ends_with_break: bool
) -> pa.Table:
    """The state-machine records; broken and ragged ones go to `bad`."""
    ncols = len(layout.columns)
    last = _last_content(lines)
    rows: list[list[str | None]] = []
    starts: list[int] = []
    for rec in layout.parsed:
        if rec.error is not None:
            bad.append(_Bad(rec.start, rec.end, rec.error, rec.error_at))
        elif len(rec.fields) != ncols:
            message = _ragged(len(rec.fields), ncols, rec.end >= last, ends_with_break)
            bad.append(_Bad(rec.start, rec.end, message))
        else:
            rows.append(rec.fields)
            starts.append(rec.start + 1)
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in range(ncols)]
    arrays = [pa.array(c, type=pa.string()) for c in columns]
    arrays.append(pa.array(starts, type=pa.int64()))
    return pa.Table.from_arrays(arrays, names=[*layout.columns, LINE_COLUMN])


def _problems(lines: Lines, layout: _Layout, bad: list[_Bad]) -> list[Problem]:
    """Problems in file order, with their record index among all data records."""
    parsed_starts = [r.start for r in layout.parsed]
    problems = []
    for b in sorted(bad, key=lambda b: b.start):
        index = bisect_left(layout.records, b.start) + bisect_left(parsed_starts, b.start)
        position = line_position(b.start + 1) if b.at is None else line_position(b.at[0] + 1, b.at[1] + 1)
        text = raw_text(lines, b.start, b.end)
        problems.append(Problem(b.message, position, b.start + 1, index, text))
    return problems


# ----------------------------------------------------------------- Arrow CSV fast paths


@dataclass
class _FastTable:
    table: pa.Table
    columns: list[str]
    problems: list[Problem]
    breaks: dict[str, int]  # line breaks of each kind outside quoted values
    rows_read: int


def _arrow_fast_path(
    raw: bytes, options: DelimitedOptions, name: str, has_quote: bool
) -> _FastTable | None:
    """Read UTF-8 with `pyarrow.csv`, when that gives exactly the generic result; else None.

    Quote-free files: `medlake.formats.delimited_fast`, which declines a ragged row. Files
    with the quote character: `medlake.formats.delimited_quoted`, which reports ragged records
    as the generic path does. Either says when it may read a file; the generic path reads the
    rest (it gives positions and raw text for every problem).
    """
    q, delim = options.quote, options.delimiter
    start_at = first_record(raw, delim, q) if has_quote and q else quote_free_start(raw, delim)
    if start_at is None:
        return None
    first, after = start_at
    if options.header:
        columns, start = first, after
        _check_columns(columns, 0, name)
    else:
        generated = [f"column_{k}" for k in range(1, len(first) + 1)]
        columns, start = list(options.columns or generated), 0
        _check_columns(columns, None, name)
    if start >= len(raw):
        return None
    first_line, names = 2 if options.header else 1, [*columns, LINE_COLUMN]
    if not (has_quote and q):
        table = read_arrow_csv(pa.py_buffer(raw).slice(start), len(columns), delim)
        if table is None:
            return None
        lines = consecutive(first_line, table.num_rows)
        table = pa.Table.from_arrays([*table.columns, lines], names=names)
        return _FastTable(table, columns, [], count_breaks(raw), table.num_rows)
    read = read_quoted(raw, start, len(columns), delim, q, first_line)
    if read is None:
        return None
    ends_with_break = raw.endswith((b"\n", b"\r"))
    problems = [
        Problem(
            _ragged(r.found, len(columns), r.index == read.records - 1, ends_with_break),
            line_position(r.line), r.line, r.index, r.text,
        )
        for r in read.ragged
    ]
    table = pa.Table.from_arrays([*read.columns, read.lines], names=names)
    return _FastTable(table, columns, problems, read.breaks, read.records)


# ------------------------------------------------------------------------------ parse


def parse_delimited(
    data: bytes,
    options: DelimitedOptions = DelimitedOptions(),
    *,
    name: str = "<bytes>",
    errors: ErrorLevel = "collect",
) -> DelimitedResult:
    """Parse delimited `data` into a table of strings plus `_line`; bad records → problems.

    Undecodable bytes, an empty file that should have a header, and a header with blank or
    duplicate names raise `ParseError` whatever `errors` says: nothing can be trusted then.
    """
    text, encoding = decode_text(data, options.encoding, name)
    if encoding in ("utf-8", "utf-8-sig"):
        raw = data[3:] if encoding == "utf-8-sig" else data
    else:
        raw = text.encode("utf-8")
    has_quote = options.quote is not None and options.quote.encode("utf-8") in raw
    fast = _arrow_fast_path(raw, options, name, has_quote) if _FAST_PATH else None
    if fast is None:
        return _parse_generic(text, encoding, options, name, errors, has_quote)
    problems: list[Problem] = []
    for problem in fast.problems:
        report(problem, errors, problems, name)
    return DelimitedResult(
        fast.table, fast.columns, problems, encoding, terminator(fast.breaks), fast.rows_read
    )


_FAST_PATH = True
"""Tests switch this off to check that the fast path and the generic path agree."""


def _parse_generic(
    text: str, encoding: str, options: DelimitedOptions, name: str, errors: ErrorLevel,
    has_quote: bool,
) -> DelimitedResult:
    lines = split_lines(text, keep_terms=True)
    simple, parsed = scan(lines, options.quote if has_quote else None, options.delimiter)
    layout = _layout(lines, simple, parsed, options, name)
    ends_with_break = text.endswith(("\n", "\r"))
    bad: list[_Bad] = []
    table = _simple_table(lines, layout, options.delimiter, bad, ends_with_break)
    if layout.parsed:
        quoted = _parsed_table(lines, layout, bad, ends_with_break)
        table = pa.concat_tables([table, quoted]).sort_by(LINE_COLUMN).combine_chunks()
    problems: list[Problem] = []
    for problem in _problems(lines, layout, bad):
        report(problem, errors, problems, name)
    return DelimitedResult(
        table=table,
        columns=list(layout.columns),
        problems=problems,
        encoding=encoding,
        line_terminator=terminator(lines.counts),
        rows_read=len(layout.records) + len(layout.parsed),
    )
