"""A parsed HL7 v2 message: its text, split into segments and fields only when asked.

Nothing is split up front. A message read by the fast path holds its own text and the one
terminator its segments end in: finding `PID` is a search in that text, and only the
segments someone reads are cut out and split into fields (cached per segment). A message
read by the slow path (blank lines, mixed terminators, envelopes) holds its segment strings
and the terminator after each. Either way `Message.text` is exactly the input, and
`Message.encode()` rebuilds it from the split fields, which is what the round-trip tests check.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from medlake.formats.hl7v2.delimiters import Delimiters
from medlake.formats.hl7v2.fields import HEADERS, NULL, Segment, leaf, split_fields
from medlake.formats.hl7v2.path import parse_path

__all__ = ["HEADERS", "NULL", "Message", "Segment", "leaf", "split_fields"]

_TERMINATOR_NAMES = {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}

Spec = tuple[int, int, int | None, int | None]
"""(field, repetition, component, sub-component) of a path inside a segment."""


@lru_cache(maxsize=1024)
def _specs(paths: tuple[str, ...]) -> tuple[Spec, ...]:
    out = []
    for path in paths:
        _, _, n, rep, comp, sub = parse_path("ZZZ." + path)
        assert n is not None
        out.append((n, rep, comp, sub))
    return tuple(out)


def _run_name(t: str) -> str:
    """The name of a run of terminators (a terminator, then blank lines)."""
    for unit, name in (("\r\n", "CRLF"), ("\r", "CR"), ("\n", "LF")):
        if t == unit * (len(t) // len(unit)):
            return name
    return "mixed"


class Message:
    """One HL7 v2 message: segment strings plus the terminators that followed them."""

    __slots__ = (
        "_at", "_body", "_cached", "_head", "_ids", "_last", "_segments", "_term", "_terminators",
        "batch", "delimiters", "index", "line",
    )

    def __init__(
        self,
        segments: list[str],
        terminators: list[str],
        delimiters: Delimiters,
        index: int = 0,
        line: int = 1,
        batch: int | None = None,
    ) -> None:
        self._segments: list[str] | None = segments
        self._terminators: list[str] | None = terminators  # one per segment; the last may be ""
        self._body: str | None = None
        self._term = self._last = ""
        self.delimiters = delimiters
        self.index = index
        self.line = line
        self.batch = batch
        self._ids: list[str] | None = None
        self._head: tuple[str, ...] | None = None  # the fields of segment 0
        self._at = 0  # the index of the segment whose fields are in `_cached`
        self._cached: tuple[str, ...] = ()

    @classmethod
    def from_text(
        cls, body: str, term: str, last: str, delimiters: Delimiters, index: int = 0, line: int = 1,
        head: tuple[str, ...] | None = None,
    ) -> Message:
        """A message whose segments are `body` split on `term`, followed by `last` ("" or
        `term`): `body` holds no blank line and no other line break. Split only when asked;
        `head` is segment 0 already split into fields."""
        m = cls.__new__(cls)
        m._body = body
        m._term = term
        m._last = last
        m._segments = m._terminators = m._ids = None
        m.delimiters = delimiters
        m.index = index
        m.line = line
        m.batch = None
        m._head = head
        m._at = 0
        m._cached = ()
        return m

    # -- the whole message ---------------------------------------------------------------
    @property
    def segments(self) -> list[str]:
        """The segment strings, without terminators."""
        s = self._segments
        if s is None:
            s = self._segments = (self._body or "").split(self._term)
        return s

    @property
    def terminators(self) -> list[str]:
        """The terminator after each segment (blank lines included); the last may be ""."""
        t = self._terminators
        if t is None:
            t = [self._term] * len(self.segments)
            t[-1] = self._last
            self._terminators = t
        return t

    @property
    def text(self) -> str:
        """Exactly the input text of this message."""
        if self._body is not None:
            return self._body + self._last
        return "".join([s + t for s, t in zip(self.segments, self.terminators, strict=True)])

    def encode(self) -> str:
        """The message rebuilt from its split fields, repetitions, components and sub-components."""
        d = self.delimiters
        out = []
        for i, (seg, term) in enumerate(zip(self.segments, self.terminators, strict=True)):
            fields = self._split(i, seg)
            header = len(fields) > 1 and seg[:3] in HEADERS
            body = [
                f if header and n <= 2 else d.repetition.join(
                    d.component.join(d.subcomponent.join(c.split(d.subcomponent)) for c in r.split(d.component))
                    for r in f.split(d.repetition)
                )
                for n, f in enumerate(fields[1:], start=1)
            ]
            if header:  # MSH-1 is the separator that joins the fields: written once
                out.append(fields[0] + d.field + d.field.join(body[1:]) + term)
            else:
                out.append(d.field.join([fields[0], *body]) + term)
        return "".join(out)

    @property
    def terminator(self) -> str:
        """The segment terminator seen: `CR`, `LF`, `CRLF` or `mixed` (a blank line counts as
        the terminator repeated)."""
        if self._terminators is None and self._term:
            return _TERMINATOR_NAMES[self._term]
        seen = {_TERMINATOR_NAMES.get(t) or _run_name(t) for t in set(self.terminators) if t}
        if len(seen) == 1:
            return seen.pop()
        return "mixed" if seen else "CR"

    # -- segments -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """The segment ids, in order."""
        ids = self._ids
        if ids is None:
            ids = self._ids = [s[:3] for s in self.segments]
        return ids

    def _split(self, i: int, s: str) -> tuple[str, ...]:
        """The fields of segment `i` (text `s`); segment 0 and the last one split are kept."""
        if i == 0:
            f = self._head
            if f is None:
                f = self._head = tuple(split_fields(s, self.delimiters))
            return f
        if self._at == i:
            return self._cached
        f = self._cached = tuple(split_fields(s, self.delimiters))
        self._at = i
        return f

    def fields(self, i: int) -> list[str]:
        """The raw fields of segment `i` (`[0]` is the segment id)."""
        if i == 0 and self._head is not None:
            return list(self._head)
        return list(self._split(i, self.segments[i]))

    def _locate(self, sid: str, occurrence: int) -> tuple[int, str] | None:
        """(index, text) of the `occurrence`-th segment `sid` (1-based)."""
        for i, s in enumerate(self.segments):
            if s[:3] == sid:
                occurrence -= 1
                if not occurrence:
                    return i, s
        return None

    def _texts(self, sid: str) -> list[str]:
        """The text of every segment `sid`, found without splitting the whole message when it
        has not been split yet."""
        body = self._body
        if self._segments is not None or body is None or len(sid) != 3:
            return [s for s in self.segments if s[:3] == sid]
        # every line of `body` starts with a segment id (3 characters, then no letter or
        # digit) and no terminator hides inside a segment: terminator + id finds exactly them
        term = self._term
        key, width = term + sid, len(term)
        out = []
        start = 0 if body.startswith(sid) else -1
        if start < 0:
            start = body.find(key)
            if start < 0:
                return out
            start += width
        while True:
            end = body.find(term, start)
            if end < 0:
                out.append(body[start:])
                return out
            out.append(body[start:end])
            start = body.find(key, end)
            if start < 0:
                return out
            start += width

    def segment(self, sid: str, occurrence: int = 1) -> Segment | None:
        """The `occurrence`-th segment with id `sid` (1-based), or `None`."""
        hit = self._locate(sid, occurrence)
        if hit is None:
            return None
        i, s = hit
        return Segment(s, i, self.delimiters, self._head if i == 0 else self._cached if i == self._at else None)

    def all(self, sid: str) -> list[Segment]:
        """Every segment with id `sid`, in order."""
        d = self.delimiters
        return [Segment(s, i, d) for i, s in enumerate(self.segments) if s[:3] == sid]

    def __iter__(self) -> Iterator[Segment]:
        d = self.delimiters
        return (Segment(s, i, d) for i, s in enumerate(self.segments))

    def __len__(self) -> int:
        return len(self.segments)

    # -- values by path ---------------------------------------------------------------------
    def get(self, path: str, text: bool = False) -> str | None:
        """The value at a path (`PID.5.1`, `OBX[3].5`, `PID.3(2).1`); `None` when empty or absent.

        A leaf comes back unescaped; a part that still has separators comes back raw.
        """
        sid, occurrence, n, rep, comp, sub = parse_path(path)
        if n is None:
            return self.raw(path) or None
        hit = self._locate(sid, occurrence)
        if hit is None:
            return None
        f = self._split(*hit)
        if n >= len(f):
            return None
        if n <= 2 and sid in HEADERS:
            return f[n] or None  # MSH-1 and MSH-2 are never split or unescaped
        return leaf(f[n], self.delimiters, rep, comp, sub, text)

    def values(
        self, sid: str, n: int, comp: int | None = None, sub: int | None = None, rep: int = 1, text: bool = False
    ) -> list[str | None]:
        """Field `n` (or one of its parts) of every `sid` segment, in order: `values("OBX", 5)`
        is every OBX-5, unescaped, `None` where empty."""
        return [row[0] for row in self._rows(sid, ((n, rep, comp, sub),), text)]

    def rows(self, sid: str, *paths: str, text: bool = False) -> list[tuple[str | None, ...]]:
        """For every `sid` segment, in order, the values at `paths` (written without the
        segment id: `"5"`, `"3.1"`, `"3(2).1"`): `rows("OBX", "3.1", "5")` is a (code, value)
        pair per OBX. Each segment is split once; the fast way to read repeating segments."""
        return self._rows(sid, _specs(paths), text)

    def _rows(self, sid: str, specs: tuple[Spec, ...], text: bool) -> list[tuple[str | None, ...]]:
        d = self.delimiters
        fs, cs, rs, es, ss = d.field, d.component, d.repetition, d.escape, d.subcomponent
        header = sid in HEADERS
        out: list[tuple[str | None, ...]] = []
        for s in self._texts(sid):
            f = split_fields(s, d) if header else s.split(fs)
            size = len(f)
            row: list[str | None] = []
            for n, rep, comp, sub in specs:
                raw = f[n] if n < size else ""
                if not raw:
                    row.append(None)
                elif header and n <= 2:
                    row.append(raw)  # MSH-1 and MSH-2 are never split or unescaped
                elif rep == 1 and sub is None and (comp is None or comp == 1):
                    # inline of `leaf` for a plain value or its first component
                    if comp == 1:
                        cut = raw.find(cs)
                        head = raw if cut < 0 else raw[:cut]
                    elif cs in raw:
                        row.append(leaf(raw, d, rep, comp, sub, text))
                        continue
                    else:
                        head = raw
                    if rs in head or ss in head or es in head:
                        row.append(leaf(raw, d, rep, comp, sub, text))
                    else:
                        row.append(head if head and head != NULL else None)
                else:
                    row.append(leaf(raw, d, rep, comp, sub, text))
            out.append(tuple(row))
        return out

    def raw(self, path: str) -> str:
        """The raw (escaped) text at a path; "" when absent."""
        p = parse_path(path)
        hit = self._locate(p.segment, p.occurrence)
        if hit is None:
            return ""
        if p.field is None:
            return hit[1]
        f = self._split(*hit)
        raw = f[p.field] if p.field < len(f) else ""
        if not raw or (p.field <= 2 and p.segment in HEADERS):
            return raw
        d = self.delimiters
        reps = raw.split(d.repetition)
        part = reps[p.repetition - 1] if p.repetition <= len(reps) else ""
        if p.component is not None:
            comps = part.split(d.component)
            part = comps[p.component - 1] if p.component <= len(comps) else ""
            if p.subcomponent is not None:
                subs = part.split(d.subcomponent)
                part = subs[p.subcomponent - 1] if p.subcomponent <= len(subs) else ""
        elif p.repetition == 1 and len(reps) > 1:
            return raw
        return part

    def is_null(self, path: str) -> bool:
        """Whether the value at `path` is the explicit null `""`."""
        return self.raw(path) == NULL

    # -- header shortcuts ---------------------------------------------------------------------
    def _msh(self, n: int, comp: int | None = None) -> str | None:
        f = self._head
        if f is None:
            body = self._body
            first = self._segments[0] if self._segments else (body.split(self._term, 1)[0] if body else "")
            f = self._split(0, first)
        if f[0] != "MSH":
            return None
        return leaf(f[n], self.delimiters, 1, comp) if n < len(f) else None

    @property
    def message_type(self) -> str | None:
        return self._msh(9, 1)

    @property
    def trigger(self) -> str | None:
        return self._msh(9, 2)

    @property
    def structure(self) -> str | None:
        """MSH-9.3, or `<type>_<trigger>` when the sender left it out."""
        s = self._msh(9, 3)
        if s:
            return s
        t, e = self.message_type, self.trigger
        return f"{t}_{e}" if t and e else None

    @property
    def control_id(self) -> str | None:
        return self._msh(10)

    @property
    def version(self) -> str | None:
        return self._msh(12, 1)

    def to_json(self) -> dict[str, Any]:
        """The parsed structure, for `medlake inspect`: fields → repetitions → components →
        sub-components, collapsed where there is only one; the explicit null is `null`."""
        from medlake.formats.hl7v2.structure import message_json

        return message_json(self)

    def __repr__(self) -> str:
        return f"<Message {self.index} {self.message_type}^{self.trigger} {self.control_id}>"
