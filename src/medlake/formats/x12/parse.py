"""An X12 file → its interchanges, and the problems found on the way.

Bytes are decoded first (byte-order marks and UTF-16 are detected; bytes that are not UTF-8
fall back to Windows-1252, then Latin-1, and say so). Each interchange starts at an `ISA`
that follows the previous interchange's terminator; its separators are read from that ISA, so
interchanges with different separators can share a file. Text before the first ISA is
reported and kept aside; a file with no ISA that starts at `GS` or `ST` is read with
separators guessed from that segment; anything else is rejected with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from medlake.errors import ErrorLevel
from medlake.formats.encoding import detect_encoding
from medlake.formats.problems import Problem, quote
from medlake.formats.x12.envelope import Context, walk_interchange
from medlake.formats.x12.interchange import Interchange
from medlake.formats.x12.position import X12Problem, emit, position
from medlake.formats.x12.separators import FILL, Separators, guess_headless, read_isa
from medlake.formats.x12.tokenize import line_ending, split_segments
from medlake.formats.x12.transaction import TransactionSet

_ISA = re.compile(r"(?<![A-Za-z0-9])ISA(?=[^A-Za-z0-9\s])")
"""An ISA that can start an interchange: not inside a word, followed by a separator."""


@lru_cache(maxsize=32)
def _next_isa(term: str) -> re.Pattern[str]:
    """The next interchange: a terminator, optional line breaks, then `ISA`."""
    return re.compile(re.escape(term) + r"[ \t\r\n]*ISA(?=[^A-Za-z0-9\s])")


@dataclass
class X12File:
    """What one X12 file held: its interchanges, and what could not be read."""

    name: str
    interchanges: list[Interchange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """Envelope and hierarchy defects (each an `X12Problem` with its position), and text
    that is not X12 (kept aside, not read)."""
    encoding: str = "utf-8"
    """The codec the bytes were read with: `utf-8`, `utf-8-sig` (a BOM), `utf-16-le` …"""
    line_ending: str = "none"
    """What followed the segment terminators: `none`, `LF`, `CRLF`, `CR` or `mixed`."""
    parts: list[str | Interchange] = field(default_factory=list)
    """The file in order: interchanges and the text between them that is not X12."""
    bom: bytes = b""

    def transaction_sets(self) -> Iterator[TransactionSet]:
        """Every transaction set (and TA1) of the file, in file order."""
        for ic in self.interchanges:
            yield from ic.transaction_sets

    def to_x12(self) -> str:
        """The file's text, rebuilt from the split segments: exactly the decoded input."""
        return "".join(p if isinstance(p, str) else p.to_x12() for p in self.parts)

    def to_bytes(self) -> bytes:
        """The file's bytes again: the text in its encoding, behind its byte-order mark."""
        codec = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        return self.bom + self.to_x12().encode(codec)

    def to_json(self) -> dict[str, Any]:
        """Interchanges → groups → transaction sets → loops → segments, for `medlake inspect`."""
        from medlake.formats.x12.structure import file_json

        return file_json(self)


def _decode(data: bytes) -> tuple[str, str, bytes, str | None]:
    """(text, encoding label, byte-order mark, a sentence when a fallback was needed)."""
    codec, skip, label = detect_encoding(data)
    body = data[skip:]
    try:
        return body.decode(codec), label, data[:skip], None
    except UnicodeDecodeError as exc:
        first = f"byte 0x{body[exc.start]:02X} at offset {skip + exc.start:,}"
    for fallback in ("cp1252", "latin-1"):
        try:
            text = body.decode(fallback)
        except UnicodeDecodeError:
            continue
        note = f"the bytes are not valid {codec.upper()} ({first}); read as {fallback}"
        return text, fallback, data[:skip], note
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def parse_x12(data: bytes | str, *, name: str = "<bytes>", errors: ErrorLevel = "collect") -> X12File:
    """Parse every interchange in `data`.

    Problems go through the error level (`ignore`, `warn`, `collect`, `raise`); a set with
    a problem is still returned (the problem names it). See the package docstring.
    """
    if isinstance(data, bytes):
        text, encoding, bom, note = _decode(data)
    else:
        text, encoding, bom, note = data, "utf-8", b"", None
    out = X12File(name, encoding=encoding, bom=bom)
    reader = _Reader(out, text, Context(name, errors, out.problems))
    if note:
        reader.file_problem(note, 0)
    reader.run()
    endings = {line_ending(ic.gaps, ic.separators.segment) for ic in out.interchanges}
    out.line_ending = endings.pop() if len(endings) == 1 else ("mixed" if endings else "none")
    return out


class _Reader:
    """Finds the interchanges of a file's text, one after the other."""

    def __init__(self, out: X12File, text: str, ctx: Context) -> None:
        self.out = out
        self.text = text
        self.ctx = ctx
        self.newline = "\n" if "\n" in text else "\r"
        self.line = 1
        self.counted = 0  # text[:counted] has been counted into self.line
        self.segments = 0

    def line_at(self, pos: int) -> int:
        if pos > self.counted:
            self.line += self.text.count(self.newline, self.counted, pos)
            self.counted = pos
        return self.line

    def file_problem(self, message: str, pos: int, text: str | None = None) -> None:
        line = self.line_at(pos)
        p = X12Problem(message, position(line=line), line, None, text)
        emit(p, self.ctx.errors, self.ctx.problems, self.ctx.name)

    def run(self) -> None:
        text = self.text
        m = _ISA.search(text)
        if m is None:
            self.headless()
            return
        pos = m.start()
        if pos:
            self.outside(0, pos, "text before the first `ISA` is not X12 and was skipped")
        while pos < len(text):
            seps, length, note = read_isa(text, pos)
            if seps is None:
                assert note is not None
                self.file_problem(note, pos, text[pos : pos + 106])
                nxt = _ISA.search(text, pos + 3)
                end = nxt.start() if nxt else len(text)
                self.out.parts.append(text[pos:end])
                pos = end
                continue
            nxt = _next_isa(seps.segment).search(text, pos + length)
            end = nxt.end() - 3 if nxt else len(text)
            self.interchange(pos, end, seps, note, headless=False)
            pos = end

    def outside(self, start: int, end: int, what: str) -> None:
        """Text that is not X12: kept for the round trip, reported unless it is white space."""
        chunk = self.text[start:end]
        self.out.parts.append(chunk)
        if chunk.strip(FILL + "\ufeff"):
            self.file_problem(f"{what}: {quote(chunk.strip(FILL))}", start, chunk)

    def headless(self) -> None:
        text = self.text
        body = text.lstrip(FILL + "\ufeff")
        start = len(text) - len(body)
        if body[:2] in ("GS", "ST") and body[2:3] and not body[2].isalnum() and body[2] not in FILL:
            seps, note = guess_headless(text, start)
            if seps is not None:
                if start:
                    self.outside(0, start, "text before the first segment")
                self.file_problem(note, start)
                self.interchange(start, len(text), seps, None, headless=True)
                return
            reason = f"no X12 interchange found: the file starts with `{body[:2]}` but {note}"
        else:
            reason = (
                "no X12 interchange found: an X12 file starts with an `ISA` segment (or at least "
                f"`GS` or `ST`), this one starts with {quote(body[:20]) if body else 'nothing'}"
            )
        self.out.parts.append(text)
        self.file_problem(reason, 0, text[:200] or None)

    def interchange(self, pos: int, end: int, seps: Separators, note: str | None, *, headless: bool) -> None:
        segs, gaps = split_segments(self.text[pos:end], seps.segment, seps.fill)
        ic = Interchange(
            len(self.out.interchanges), seps, segs, gaps, offset=pos, line=self.line_at(pos),
            first_segment=self.segments, newline=self.newline,
            header=None if headless else segs[0].split(seps.element),
        )
        self.segments += len(segs)
        self.out.interchanges.append(ic)
        self.out.parts.append(ic)
        if note:
            where = position(ic.label, file_segment=ic.first_segment + 1, element="ISA")
            p = X12Problem(note, where, ic.line, None, segs[0], ic.label, file_segment=ic.first_segment + 1, element="ISA")
            emit(p, self.ctx.errors, self.ctx.problems, self.ctx.name)
        walk_interchange(ic, self.ctx)
