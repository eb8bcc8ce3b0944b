"""Physical lines and the records they hold: the generic path of `medlake.formats.delimited`.

`split_lines` cuts decoded text into physical lines (LF, CRLF, or CR when the file has no LF)
and counts the breaks of each kind; `scan` finds the lines holding the quote character and
reads their records with the state machine (`parse_record`): RFC 4180 quoting, fields that
run over several lines, and the two ways a quoted field can be broken. Lines without the quote
character are left to the caller, which splits them with Arrow.
"""

from __future__ import annotations

from dataclasses import dataclass

from medlake.formats.problems import quote

# ---------------------------------------------------------------------- physical lines


@dataclass
class Lines:
    lines: list[str]
    terms: list[str]  # the break after each line ("" after the last); filled only if needed
    counts: dict[str, int]  # how many breaks of each kind: "\n", "\r\n", "\r"


def split_lines(text: str, keep_terms: bool) -> Lines:
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
        return Lines(lines, terms, counts)
    if "\r" in text:
        counts = {"\n": 0, "\r\n": 0, "\r": text.count("\r")}
        return _uniform(text.split("\r"), "\r", counts, keep_terms)
    return Lines([text], [""], {"\n": 0, "\r\n": 0, "\r": 0})


def _uniform(lines: list[str], term: str, counts: dict[str, int], keep: bool) -> Lines:
    terms = [term] * (len(lines) - 1) + [""] if keep else []
    return Lines(lines, terms, counts)


def terminator(counts: dict[str, int]) -> str:
    kinds = [kind for kind in ("\r\n", "\n", "\r") if counts[kind] > 0]
    return kinds[0] if len(kinds) == 1 else ("none" if not kinds else "mixed")


# ------------------------------------------------------------------ quoted records


@dataclass
class Record:
    start: int  # index of the first physical line
    end: int  # index of the last physical line
    fields: list[str | None]
    error: str | None = None
    error_at: tuple[int, int] = (0, 0)  # (line index, 0-based column)


def _read_quoted(
    lines: Lines, j: int, pos: int, q: str
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


def parse_record(lines: Lines, i: int, delim: str, q: str) -> Record:
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
                return Record(i, len(lines.lines) - 1, fields, error, (j, pos))
            j, pos, line = j_end, after, lines.lines[j_end]
            fields.append(value)
            if pos == len(line):
                return Record(i, j, fields)
            if not line.startswith(delim, pos):
                error = (
                    f"unexpected text after a closing quote, expected {delim!r} or the end of "
                    f"the line: {quote(line[pos:])}"
                )
                return Record(i, j, fields, error, (j, pos))
            pos += len(delim)
            continue
        k = line.find(delim, pos)
        if k < 0:
            fields.append(line[pos:] or None)
            return Record(i, j, fields)
        fields.append(line[pos:k] or None)
        pos = k + len(delim)


def raw_text(lines: Lines, start: int, end: int) -> str:
    if start == end:
        return lines.lines[start]
    parts = [lines.lines[k] + lines.terms[k] for k in range(start, end)]
    return "".join(parts) + lines.lines[end]


def split_quoted_line(line: str, delim: str, q: str) -> list[str | None] | None:
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


def scan(lines: Lines, q: str | None, delim: str) -> tuple[list[int], list[Record]]:
    """Split records into simple lines (no quote char) and lines parsed here, in file order."""
    text_lines = lines.lines
    if q is None:
        return [i for i, s in enumerate(text_lines) if s], []
    simple = [i for i, s in enumerate(text_lines) if s and q not in s]
    parsed: list[Record] = []
    consumed: set[int] = set()
    done = -1
    for i in [i for i, s in enumerate(text_lines) if q in s]:
        if i <= done:
            continue
        fields = split_quoted_line(text_lines[i], delim, q)
        record = Record(i, i, fields) if fields is not None else parse_record(lines, i, delim, q)
        parsed.append(record)
        for k in range(record.start, record.end):  # line breaks inside quoted fields
            lines.counts[lines.terms[k]] -= 1
            consumed.add(k + 1)
        done = record.end
    if consumed:
        simple = [i for i in simple if i not in consumed]
    return simple, parsed
