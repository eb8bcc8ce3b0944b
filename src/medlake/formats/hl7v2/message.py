"""A parsed HL7 v2 message: its text, split into segments and fields only when asked.

Nothing is split up front. A message read by the fast path holds its own text and the one
terminator its segments end in, plus its header split into fields: finding `PID` is a
search in that text, and only the segments someone reads are cut out and split. A message
read by the slow path (blank lines, mixed terminators, envelopes) holds its segment strings
and the terminator after each. Either way `Message.text` is exactly the input, and
`Message.encode()` rebuilds it from the split fields, which is what the round-trip tests check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from medlake.formats.hl7v2.delimiters import Delimiters
from medlake.formats.hl7v2.extract import (
    PLAN_CACHE,
    PLANS,
    Matcher,
    Row,
    find_rows,
    header_row,
    kind,
    matcher,
    plan,
    row,
)
from medlake.formats.hl7v2.fields import HEADERS, NULL, Segment, leaf, split_fields
from medlake.formats.hl7v2.path import parse_path

__all__ = ["HEADERS", "NULL", "Message", "Segment", "leaf", "split_fields"]

_TERMINATOR_NAMES = {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}


def _run_name(t: str) -> str:
    """The name of a run of terminators (a terminator, then blank lines)."""
    for unit, name in (("\r\n", "CRLF"), ("\r", "CR"), ("\n", "LF")):
        if t == unit * (len(t) // len(unit)):
            return name
    return "mixed"


class Lines:
    """The first line of each message of a file read by the fast path, counted only when
    someone asks (most readers never do, and counting costs a pass over the text). The
    messages of a file share it, and it holds their texts until then."""

    __slots__ = ("bodies", "starts", "term")

    def __init__(self, term: str) -> None:
        self.term = term
        self.bodies: list[str] = []  # the text of each message, in order
        self.starts = [1]

    def line(self, k: int) -> int:
        starts, term = self.starts, self.term
        while len(starts) <= k:
            starts.append(starts[-1] + self.bodies[len(starts) - 1].count(term) + 1)
        return starts[k]


class Message:
    """One HL7 v2 message: segment strings plus the terminators that followed them."""

    __slots__ = ("_body", "_head", "_last", "_line", "_segments", "_term", "_terms", "batch", "delimiters", "index")

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
        self._terms: list[str] | None = terminators  # one per segment; the last may be ""
        self._body: str | None = None
        self._term = self._last = ""
        self._head: tuple[str, ...] | None = None  # segment 0 split into fields
        self.delimiters = delimiters
        self.index = index
        self._line: int | Lines = line
        self.batch = batch

    @classmethod
    def from_text(cls, body: str, term: str, last: str, delimiters: Delimiters, index: int, line: int | Lines) -> Message:
        """A message whose segments are `body` split on `term`, followed by `last` ("" or
        `term`). `body` must hold no blank line and no other line break, and start every
        line with a segment id. `line`: its first line, or the `Lines` of its file."""
        m = cls.__new__(cls)
        m._body = body
        m._term = term
        m._last = last
        m._segments = m._terms = m._head = None
        m.delimiters = delimiters
        m.index = index
        m._line = line
        m.batch = None
        return m

    @property
    def line(self) -> int:
        """The line of the input the message starts on (1-based)."""
        line = self._line
        return line if isinstance(line, int) else line.line(self.index)

    def __getstate__(self) -> dict[str, Any]:
        # a pickled message carries its own line number, not its file's `Lines`
        state = {k: getattr(self, k) for k in self.__slots__}
        state["_line"] = self.line
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

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
        if self._terms is not None:
            return self._terms
        t = [self._term] * len(self.segments)
        t[-1] = self._last
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
        for i, term in enumerate(self.terminators):
            fields = self.fields(i)
            header = len(fields) > 1 and fields[0] in HEADERS
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
        if self._terms is None:
            return _TERMINATOR_NAMES.get(self._term, "CR")
        seen = {_TERMINATOR_NAMES.get(t) or _run_name(t) for t in set(self._terms) if t}
        if len(seen) == 1:
            return seen.pop()
        return "mixed" if seen else "CR"

    # -- segments -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """The segment ids, in order."""
        return [s[:3] for s in self.segments]

    def fields(self, i: int) -> list[str]:
        """The raw fields of segment `i` (`[0]` is the segment id)."""
        if i == 0:
            return list(self._header())
        return split_fields(self.segments[i], self.delimiters)

    def _header(self) -> tuple[str, ...]:
        """Segment 0 split into fields (kept: every reader of a message wants its header)."""
        h = self._head
        if h is None:
            first = self.segments[0] if self._segments else (self._body or "").split(self._term, 1)[0]
            h = self._head = tuple(split_fields(first, self.delimiters))
        return h

    def _locate(self, sid: str, occurrence: int = 1) -> tuple[int, str] | None:
        """(index, text) of the `occurrence`-th segment `sid` (1-based)."""
        body = self._body
        if self._segments is None and body is not None and len(sid) == 3:
            # every line of `body` starts with a segment id (3 characters, then no letter or
            # digit), the first with MSH, and no terminator hides inside a segment: so a
            # search for terminator + id finds exactly the segments wanted
            term, start = self._term, 0
            if sid == "MSH":
                occurrence -= 1
            if occurrence:
                key, start = term + sid, -1
                while occurrence:
                    start = body.find(key, start + 1)
                    if start < 0:
                        return None
                    occurrence -= 1
                start += len(term)
            end = body.find(term, start)
            return body.count(term, 0, start), body[start:] if end < 0 else body[start:end]
        for i, s in enumerate(self.segments):
            if s[:3] == sid:
                occurrence -= 1
                if not occurrence:
                    return i, s
        return None

    def _texts(self, sid: str) -> list[str]:
        """The text of every segment `sid`, in order (a search, when the message is not split)."""
        body = self._body
        if self._segments is not None or body is None or len(sid) != 3 or sid == "MSH":
            return [s for s in self.segments if s[:3] == sid]
        term = self._term
        key, width, out = term + sid, len(term), []
        start = body.find(key)
        while start >= 0:
            start += width
            end = body.find(term, start)
            if end < 0:
                out.append(body[start:])
                break
            out.append(body[start:end])
            start = body.find(key, end)
        return out

    def segment(self, sid: str, occurrence: int = 1) -> Segment | None:
        """The `occurrence`-th segment with id `sid` (1-based), or `None`."""
        hit = self._locate(sid, occurrence)
        if hit is None:
            return None
        i, s = hit
        return Segment(s, i, self.delimiters, self._header() if i == 0 else None)

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
        seg = self.segment(sid, occurrence)
        return None if seg is None else seg.get(n, comp, sub, rep, text)

    def first(self, sid: str, *paths: str, text: bool = False) -> Row | None:
        """The values at `paths` (written without the segment id: `"5"`, `"3.1"`, `"3(2).1"`)
        in the first `sid` segment, or `None` when there is none: `first("PID", "3.1", "7")`.
        Values as `get` returns them; the segment is read once."""
        body = self._body
        if body is not None and self._segments is None:
            cached = self.delimiters.matchers.get((sid, paths, self._term), False)
            m: Matcher | None = self._matcher(sid, paths) if cached is False else cached
            if m is not None:
                found = m.pattern.search(body)
                if found is None:
                    return None
                groups: tuple[str, ...] = found.groups()
                if m.order is None and not groups[-1]:
                    values = groups[:-1]
                    if "" not in values and NULL not in values:
                        return values
                return m.read(groups, self.delimiters, text)
        seg = self.segment(sid)
        if seg is None:
            return None
        if sid in HEADERS:
            return header_row(seg, paths, text)
        steps, top = PLANS.get(paths) or plan(paths)
        return row(seg.raw, steps, top, self.delimiters, text)

    def rows(self, sid: str, *paths: str, text: bool = False) -> list[Row]:
        """For every `sid` segment, in order, the values at `paths` (as in `first`):
        `rows("OBX", "3.1", "5")` is a (code, value) pair per OBX. The fast way to read a
        repeating segment."""
        body, d = self._body, self.delimiters
        if body is not None and self._segments is None:
            cached = d.matchers.get((sid, paths, self._term), False)
            m: Matcher | None = self._matcher(sid, paths) if cached is False else cached
            if m is not None:
                start = body.find(m.key)  # str.find skips to the first one faster than the regex
                return find_rows(m, body, start, d, text) if start >= 0 else []
        if sid in HEADERS:
            return [header_row(s, paths, text) for s in self.all(sid)]
        steps, top = PLANS.get(paths) or plan(paths)
        return [row(s, steps, top, d, text) for s in self._texts(sid)]

    def _matcher(self, sid: str, paths: tuple[str, ...]) -> Matcher | None:
        cache = self.delimiters.matchers
        if len(cache) >= PLAN_CACHE:
            cache.clear()
        m = cache[(sid, paths, self._term)] = matcher(sid, paths, self.delimiters, self._term)
        return m

    def values(
        self, sid: str, n: int, comp: int | None = None, sub: int | None = None, rep: int = 1, text: bool = False
    ) -> list[str | None]:
        """Field `n` (or one of its parts) of every `sid` segment, in order: `values("OBX", 5)`
        is every OBX-5, unescaped, `None` where empty."""
        if sid in HEADERS:
            return [s.get(n, comp, sub, rep, text) for s in self.all(sid)]
        steps, d = ((n, kind(rep, comp, sub), rep, comp, sub),), self.delimiters
        return [row(s, steps, n + 1, d, text)[0] for s in self._texts(sid)]

    def raw(self, path: str) -> str:
        """The raw (escaped) text at a path; "" when absent."""
        p = parse_path(path)
        hit = self._locate(p.segment, p.occurrence)
        if hit is None:
            return ""
        i, s = hit
        if p.field is None:
            return s
        f = self._header() if i == 0 else split_fields(s, self.delimiters)
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
        if not self._body and not self._segments:
            return None
        f = self._header()
        if f[0] != "MSH" or n >= len(f):
            return None
        return leaf(f[n], self.delimiters, 1, comp)

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
