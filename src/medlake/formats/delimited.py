"""Delimited text (CSV, pipe, tab, `^|^` …) → one Arrow table of strings, losslessly.

Rules: RFC 4180 quoting (a field that *starts* with the quote character may hold delimiters,
doubled quotes and line breaks; a quote character inside an unquoted field is kept as
text); LF, CRLF and CR line endings; blank lines skipped; a final line break optional;
whitespace kept; an unquoted empty field is null, a quoted empty field `""` is the empty
string. Each record carries `_line`, the 1-based physical line where it starts.

A file that uses LF (or CRLF) breaks its lines only at LF: a lone CR inside a line is data.
Only a file with no LF at all is read as CR-terminated.

Speed: lines without the quote character (most lines of most feeds) are split by Arrow
(`split_pattern`, `list_element`); only lines holding the quote character go through the
Python state machine below. A quote-free UTF-8 file is read whole by `pyarrow.csv` when that
gives exactly the same result (`medlake.formats.delimited_fast`). Decoding is
`medlake.formats.encoding`; `detect_encoding` and `decode_text` are re-exported here.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from medlake.errors import ConfigError, ErrorLevel, ParseError
from medlake.formats.delimited_fast import count_breaks, quote_free_start, read_arrow_csv
from medlake.formats.encoding import decode_text, detect_encoding
from medlake.formats.problems import Problem, line_position, quote, report

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


# ---------------------------------------------------------------------- physical lines


@dataclass
class _Lines:
    lines: list[str]
    terms: list[str]  # the break after each line ("" after the last); filled only if needed
    counts: dict[str, int]  # how many breaks of each kind: "\n", "\r\n", "\r"


def _split_lines(text: str, keep_terms: bool) -> _Lines:
    if "\n" in text:
        n_lf, n_crlf = text.count("\n"), text.count("\r\n")
        counts = {"\n": n_lf - n_crlf, "\r\n": n_crlf, "\r": 0}
        if n_crlf == 0 or n_crlf == n_lf:
            term = "\n" if n_crlf == 0 else "\r\n"
            return _uniform(text.split(term), term, counts, keep_terms)
        lines = text.split("\n")
        last = len(lines) - 1
        terms = ["\r\n" if i < last and s.endswith("\r") else "\n" for i, s in enumerate(lines)]
        lines = [s[:-1] if t == "\r\n" else s for s, t in zip(lines, terms, strict=True)]
        terms[last] = ""
        return _Lines(lines, terms, counts)
    if "\r" in text:
        counts = {"\n": 0, "\r\n": 0, "\r": text.count("\r")}
        return _uniform(text.split("\r"), "\r", counts, keep_terms)
    return _Lines([text], [""], {"\n": 0, "\r\n": 0, "\r": 0})


def _uniform(lines: list[str], term: str, counts: dict[str, int], keep: bool) -> _Lines:
    terms = [term] * (len(lines) - 1) + [""] if keep else []
    return _Lines(lines, terms, counts)


def _terminator(counts: dict[str, int]) -> str:
    kinds = [kind for kind in ("\r\n", "\n", "\r") if counts[kind] > 0]
    return kinds[0] if len(kinds) == 1 else ("none" if not kinds else "mixed")


# ------------------------------------------------------------------ quoted records


@dataclass
class _Record:
    start: int  # index of the first physical line
    end: int  # index of the last physical line
    fields: list[str | None]
    error: str | None = None
    error_at: tuple[int, int] = (0, 0)  # (line index, 0-based column)


def _read_quoted(
    lines: _Lines, j: int, pos: int, q: str
) -> tuple[str | None, int, int]:
    """Read the quoted field opening at lines[j][pos]: (value or None if never closed, line, end)."""
    parts: list[str] = []
    line, pos = lines.lines[j], pos + 1
    while True:
        k = line.find(q, pos)
        if k < 0:
            if j + 1 >= len(lines.lines):
                return None, j, len(line)
            parts += (line[pos:], lines.terms[j])
            j += 1
            line, pos = lines.lines[j], 0
            continue
        parts.append(line[pos:k])
        if line.startswith(q, k + 1):
            parts.append(q)
            pos = k + 2
            continue
        return "".join(parts), j, k + 1


def _parse_record(lines: _Lines, i: int, delim: str, q: str) -> _Record:
    """Parse the record starting at line `i` with the state machine (quotes, multi-line)."""
    fields: list[str | None] = []
    j, pos, line = i, 0, lines.lines[i]
    while True:
        if line.startswith(q, pos):
            value, j_end, after = _read_quoted(lines, j, pos, q)
            if value is None:
                rest = len(lines.lines) - j - (lines.lines[-1] == "")
                error = (
                    f"a quoted field opens here and is never closed, so the rest of the file "
                    f"({rest:,} lines) was read into it: {quote(line[pos:])}"
                )
                return _Record(i, len(lines.lines) - 1, fields, error, (j, pos))
            j, pos, line = j_end, after, lines.lines[j_end]
            fields.append(value)
            if pos == len(line):
                return _Record(i, j, fields)
            if not line.startswith(delim, pos):
                error = (
                    f"unexpected text after a closing quote, expected {delim!r} or the end of "
                    f"the line: {quote(line[pos:])}"
                )
                return _Record(i, j, fields, error, (j, pos))
            pos += len(delim)
            continue
        k = line.find(delim, pos)
        if k < 0:
            fields.append(line[pos:] or None)
            return _Record(i, j, fields)
        fields.append(line[pos:k] or None)
        pos = k + len(delim)


def _raw(lines: _Lines, start: int, end: int) -> str:
    if start == end:
        return lines.lines[start]
    parts = [lines.lines[k] + lines.terms[k] for k in range(start, end)]
    return "".join(parts) + lines.lines[end]


def _split_quoted_line(line: str, delim: str, q: str) -> list[str | None] | None:
    """Fast path for a one-line record with quotes: split, then re-join quoted pieces.

    Returns None when the line needs the state machine (a quoted field runs past the end of
    the line, or text follows a closing quote); the state machine then gives the answer.
    """
    pieces = line.split(delim)
    fields: list[str | None] = []
    i, n = 0, len(pieces)
    while i < n:
        piece = pieces[i]
        if not piece.startswith(q):
            fields.append(piece or None)
            i += 1
            continue
        while piece.count(q) % 2:
            i += 1
            if i >= n:
                return None
            piece = piece + delim + pieces[i]
        if not piece.endswith(q):
            return None
        inner = piece[1:-1]
        if q in inner:
            if q in inner.replace(q + q, ""):
                return None
            inner = inner.replace(q + q, q)
        fields.append(inner)
        i += 1
    return fields


def _scan(lines: _Lines, q: str | None, delim: str) -> tuple[list[int], list[_Record]]:
    """Split records into simple lines (no quote char) and lines parsed here, in file order."""
    text_lines = lines.lines
    if q is None:
        return [i for i, s in enumerate(text_lines) if s], []
    simple = [i for i, s in enumerate(text_lines) if s and q not in s]
    parsed: list[_Record] = []
    consumed: set[int] = set()
    done = -1
    for i in [i for i, s in enumerate(text_lines) if q in s]:
        if i <= done:
            continue
        fields = _split_quoted_line(text_lines[i], delim, q)
        record = _Record(i, i, fields) if fields is not None else _parse_record(lines, i, delim, q)
        parsed.append(record)
        for k in range(record.start, record.end):  # line breaks inside quoted fields
            lines.counts[lines.terms[k]] -= 1
            consumed.add(k + 1)
        done = record.end
    if consumed:
        simple = [i for i in simple if i not in consumed]
    return simple, parsed


# ------------------------------------------------------------------------------ header


@dataclass
class _Layout:
    columns: list[str]
    header_line: int | None = None  # index of the header's physical line, if any
    records: list[int] = field(default_factory=list)  # simple line indices, header removed
    parsed: list[_Record] = field(default_factory=list)


def _layout(
    lines: _Lines, simple: list[int], parsed: list[_Record], options: DelimitedOptions, name: str
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


def _last_content(lines: _Lines) -> int:
    last = len(lines.lines) - 1
    while last > 0 and not lines.lines[last]:
        last -= 1
    return last


def _simple_table(
    lines: _Lines, layout: _Layout, delim: str, bad: list[_Bad], ends_with_break: bool
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
    lines: _Lines, layout: _Layout, bad: list[_Bad], ends_with_break: bool
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


def _problems(lines: _Lines, layout: _Layout, bad: list[_Bad]) -> list[Problem]:
    """Problems in file order, with their record index among all data records."""
    parsed_starts = [r.start for r in layout.parsed]
    problems = []
    for b in sorted(bad, key=lambda b: b.start):
        index = bisect_left(layout.records, b.start) + bisect_left(parsed_starts, b.start)
        position = line_position(b.start + 1) if b.at is None else line_position(b.at[0] + 1, b.at[1] + 1)
        text = _raw(lines, b.start, b.end)
        problems.append(Problem(b.message, position, b.start + 1, index, text))
    return problems


# ------------------------------------------------------------------ Arrow CSV fast path


@dataclass
class _FastTable:
    table: pa.Table
    columns: list[str]


def _arrow_fast_path(raw: bytes, options: DelimitedOptions, name: str) -> _FastTable | None:
    """Read quote-free UTF-8 with `pyarrow.csv`, when that gives exactly the generic result.

    `quote_free_start` says when it may (see `medlake.formats.delimited_fast`); a ragged row
    also gives None, and the generic path runs (it gives positions and raw text for every
    problem).
    """
    start_at = quote_free_start(raw, options.delimiter)
    if start_at is None:
        return None
    first, after = start_at
    if options.header:
        columns = first
        _check_columns(columns, 0, name)
        start = after
    else:
        generated = [f"column_{k}" for k in range(1, len(first) + 1)]
        columns = list(options.columns) if options.columns is not None else generated
        _check_columns(columns, None, name)
        start = 0
    if start >= len(raw):
        return None
    table = read_arrow_csv(pa.py_buffer(raw).slice(start), len(columns), options.delimiter)
    if table is None:
        return None
    first_line = 2 if options.header else 1
    lines = pa.array(range(first_line, first_line + table.num_rows), type=pa.int64())
    arrays = [*table.columns, lines]
    return _FastTable(pa.Table.from_arrays(arrays, names=[*columns, LINE_COLUMN]), columns)


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
    if not has_quote and _FAST_PATH:
        fast = _arrow_fast_path(raw, options, name)
        if fast is not None:
            terminator = _terminator(count_breaks(raw))
            rows = fast.table.num_rows
            return DelimitedResult(fast.table, fast.columns, [], encoding, terminator, rows)
    return _parse_generic(text, encoding, options, name, errors, has_quote)


_FAST_PATH = True
"""Tests switch this off to check that the fast path and the generic path agree."""


def _parse_generic(
    text: str, encoding: str, options: DelimitedOptions, name: str, errors: ErrorLevel,
    has_quote: bool,
) -> DelimitedResult:
    lines = _split_lines(text, keep_terms=True)
    simple, parsed = _scan(lines, options.quote if has_quote else None, options.delimiter)
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
        line_terminator=_terminator(lines.counts),
        rows_read=len(layout.records) + len(layout.parsed),
    )
