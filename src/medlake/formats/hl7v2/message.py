"""A parsed HL7 v2 message: its segments as raw text, split into fields only when asked.

Nothing is split up front: a message holds its segment strings and their terminators, so
parsing a file costs one split per line, and a field costs a split only when someone reads
it. `Message.text` rebuilds exactly the input; `Message.encode()` rebuilds it from the split
fields, which is what the round-trip tests check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from medlake.formats.hl7v2.delimiters import Delimiters
from medlake.formats.hl7v2.escape import unescape
from medlake.formats.hl7v2.path import parse_path

NULL = '""'
"""The explicit null: the field is to be deleted (an empty field means "not sent")."""

HEADERS = ("MSH", "FHS", "BHS")
"""Segments whose field 1 is the field separator itself (the numbering is shifted by one)."""


def split_fields(segment: str, d: Delimiters) -> list[str]:
    """Raw fields of a segment, indexed by field number (`[0]` is the segment id)."""
    parts = segment.split(d.field)
    if segment[:3] in HEADERS:
        parts.insert(1, d.field)
    return parts


def leaf(raw: str, d: Delimiters, rep: int = 1, comp: int | None = None, sub: int | None = None, text: bool = False) -> str | None:
    """The value at (repetition, component, sub-component) of a raw field.

    A leaf is unescaped; a part that still holds separators is returned raw. Empty, absent
    and explicit-null (`""`) values are `None`.
    """
    if not raw:
        return None
    if d.repetition in raw:
        reps = raw.split(d.repetition)
        if rep > len(reps):
            return None
        raw = reps[rep - 1]
    elif rep > 1:
        return None
    if comp is not None:
        if d.component in raw:
            comps = raw.split(d.component)
            if comp > len(comps):
                return None
            raw = comps[comp - 1]
        elif comp > 1:
            return None
        if sub is not None:
            if d.subcomponent in raw:
                subs = raw.split(d.subcomponent)
                if sub > len(subs):
                    return None
                raw = subs[sub - 1]
            elif sub > 1:
                return None
    if not raw or raw == NULL:
        return None
    if d.component in raw or d.subcomponent in raw or (comp is None and d.repetition in raw):
        return raw
    return unescape(raw, d, text)


class Segment:
    """A view of one segment of a message (made only when a caller asks for it)."""

    __slots__ = ("_fields", "delimiters", "index", "raw")

    def __init__(self, raw: str, index: int, d: Delimiters) -> None:
        self.raw = raw
        self.index = index
        self.delimiters = d
        self._fields: list[str] | None = None

    @property
    def id(self) -> str:
        return self.raw[:3]

    @property
    def fields(self) -> list[str]:
        if self._fields is None:
            self._fields = split_fields(self.raw, self.delimiters)
        return self._fields

    def field(self, n: int) -> str:
        """The raw text of field `n` ("" when absent)."""
        f = self.fields
        return f[n] if n < len(f) else ""

    def get(self, n: int, comp: int | None = None, sub: int | None = None, rep: int = 1, text: bool = False) -> str | None:
        """The (unescaped) value of field `n`, or of one of its parts; `None` when empty."""
        f = self._fields or self.fields
        if n >= len(f):
            return None
        raw = f[n]
        d = self.delimiters
        if n <= 2 and self.raw[:3] in HEADERS:
            return raw or None  # MSH-1 and MSH-2 are never split or unescaped
        if rep == 1 and (comp is None or comp == 1) and sub is None:
            # the common case in one pass: a plain value (or its first component)
            cut = raw.find(d.component) if comp == 1 else -1
            head = raw if cut < 0 else raw[:cut]
            if d.repetition not in head and d.escape not in head and d.subcomponent not in head and (comp == 1 or d.component not in head):
                return head if head and head != NULL else None
        return leaf(raw, d, rep, comp, sub, text)

    def is_null(self, n: int) -> bool:
        """Whether field `n` is the explicit null `""` (delete), as opposed to empty."""
        return self.field(n) == NULL

    def repetitions(self, n: int) -> list[str]:
        """The raw repetitions of field `n` (none when it is empty)."""
        raw = self.field(n)
        return raw.split(self.delimiters.repetition) if raw else []

    def components(self, n: int, rep: int = 1) -> list[str | None]:
        """The unescaped components of one repetition of field `n`."""
        reps = self.repetitions(n)
        if rep > len(reps):
            return []
        d = self.delimiters
        return [leaf(c, d) if d.subcomponent not in c else c for c in reps[rep - 1].split(d.component)]

    def __repr__(self) -> str:
        return f"<Segment {self.index} {self.id}>"


class Message:
    """One HL7 v2 message: segment strings plus the terminators that followed them."""

    __slots__ = ("_fields", "_ids", "batch", "delimiters", "index", "line", "segments", "terminators")

    def __init__(
        self,
        segments: list[str],
        terminators: list[str],
        delimiters: Delimiters,
        index: int = 0,
        line: int = 1,
        batch: int | None = None,
    ) -> None:
        self.segments = segments
        self.terminators = terminators  # one per segment; the last may be ""
        self.delimiters = delimiters
        self.index = index
        self.line = line
        self.batch = batch
        self._ids: list[str] | None = None
        self._fields: dict[int, list[str]] = {}

    # -- the whole message ---------------------------------------------------------------
    @property
    def text(self) -> str:
        """Exactly the input text of this message."""
        return "".join(s + t for s, t in zip(self.segments, self.terminators, strict=True))

    def encode(self) -> str:
        """The message rebuilt from its split fields, repetitions, components and sub-components."""
        d = self.delimiters
        out = []
        for i, seg in enumerate(self.segments):
            fields = self.fields(i)
            body = [
                d.repetition.join(
                    d.component.join(d.subcomponent.join(c.split(d.subcomponent)) for c in r.split(d.component))
                    for r in f.split(d.repetition)
                )
                for f in fields[1:]
            ]
            if seg[:3] in HEADERS:
                text = fields[0] + d.field + d.field.join(body[1:])
            else:
                text = d.field.join([fields[0], *body])
            out.append(text + self.terminators[i])
        return "".join(out)

    @property
    def terminator(self) -> str:
        """The segment terminator seen: `CR`, `LF`, `CRLF` or `mixed`."""
        seen = {t for t in self.terminators[:-1] if t} or {t for t in self.terminators if t}
        names = {"\r": "CR", "\n": "LF", "\r\n": "CRLF"}
        if len(seen) == 1:
            (t,) = seen
            return names.get(t, "mixed")
        return "mixed" if seen else "CR"

    # -- segments -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = [s[:3] for s in self.segments]
        return self._ids

    def fields(self, i: int) -> list[str]:
        """The raw fields of segment `i` (`[0]` is the segment id)."""
        f = self._fields.get(i)
        if f is None:
            f = self._fields[i] = split_fields(self.segments[i], self.delimiters)
        return f

    def segment(self, sid: str, occurrence: int = 1) -> Segment | None:
        """The `occurrence`-th segment with id `sid` (1-based), or `None`."""
        seen = 0
        for i, s in enumerate(self.segments):
            if s[:3] == sid:
                seen += 1
                if seen == occurrence:
                    return Segment(s, i, self.delimiters)
        return None

    def all(self, sid: str) -> list[Segment]:
        d = self.delimiters
        return [Segment(s, i, d) for i, s in enumerate(self.segments) if s[:3] == sid]

    def __iter__(self) -> Iterator[Segment]:
        d = self.delimiters
        return (Segment(s, i, d) for i, s in enumerate(self.segments))

    def __len__(self) -> int:
        return len(self.segments)

    # -- values by path ---------------------------------------------------------------------
    def _field_raw(self, sid: str, occurrence: int, n: int) -> str | None:
        seen = 0
        for i, s in enumerate(self.ids):
            if s == sid:
                seen += 1
                if seen == occurrence:
                    f = self.fields(i)
                    return f[n] if n < len(f) else ""
        return None

    def get(self, path: str, text: bool = False) -> str | None:
        """The value at a path (`PID.5.1`, `OBX[3].5`, `PID.3(2).1`); `None` when empty or absent.

        A leaf comes back unescaped; a part that still has separators comes back raw.
        """
        p = parse_path(path)
        if p.field is None:
            return self.raw(path) or None
        raw = self._field_raw(p.segment, p.occurrence, p.field)
        if raw is None:
            return None
        if p.field <= 2 and p.segment in HEADERS:
            return raw or None
        return leaf(raw, self.delimiters, p.repetition, p.component, p.subcomponent, text)

    def raw(self, path: str) -> str:
        """The raw (escaped) text at a path; "" when absent."""
        p = parse_path(path)
        if p.field is None:
            seg = self.segment(p.segment, p.occurrence)
            return seg.raw if seg else ""
        raw = self._field_raw(p.segment, p.occurrence, p.field)
        if not raw or (p.field <= 2 and p.segment in HEADERS):
            return raw or ""
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
        if not self.segments or self.ids[0] != "MSH":
            return None
        f = self.fields(0)
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
