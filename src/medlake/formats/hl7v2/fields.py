"""Fields, repetitions, components and sub-components of one segment: splitting, leaf values,
and the `Segment` view.

Field numbers are the standard's: `[0]` is the segment id, and in a header segment (MSH, FHS,
BHS) field 1 is the field separator itself, so MSH-2 (the encoding characters) is `[2]` and is
never split or unescaped.
"""

from __future__ import annotations

from medlake.formats.hl7v2.delimiters import Delimiters
from medlake.formats.hl7v2.escape import unescape

NULL = '""'
"""The explicit null: the field is to be deleted (an empty field means "not sent")."""

HEADERS = ("MSH", "FHS", "BHS")
"""Segments whose field 1 is the field separator itself (the numbering is shifted by one)."""

Fields = list[str] | tuple[str, ...]
"""Split fields: a list where callers get them, a tuple where a message keeps them (a tuple
of strings costs the garbage collector nothing once it has seen it)."""


def split_fields(segment: str, d: Delimiters) -> list[str]:
    """Raw fields of a segment, indexed by field number (`[0]` is the segment id)."""
    parts = segment.split(d.field)
    if len(parts) > 1 and segment[:3] in HEADERS:
        parts.insert(1, d.field)
    return parts


def leaf(raw: str, d: Delimiters, rep: int = 1, comp: int | None = None, sub: int | None = None, text: bool = False) -> str | None:
    """The value at (repetition, component, sub-component) of a raw field.

    A leaf is unescaped; a part that still holds separators is returned raw. Empty, absent
    and explicit-null (`""`) values are `None`.
    """
    if not raw:
        return None
    if rep == 1 and sub is None and (comp is None or comp == 1):
        # the common case in one pass: a plain value, or the first component of one
        head = raw
        if comp == 1:
            cut = raw.find(d.component)
            if cut >= 0:
                head = raw[:cut]
        if d.repetition not in head and d.subcomponent not in head and (comp == 1 or d.component not in head):
            if not head or head == NULL:
                return None
            return head if d.escape not in head else unescape(head, d, text)
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
    if d.component in raw or d.subcomponent in raw:
        return raw
    return unescape(raw, d, text)


class Segment:
    """A view of one segment of a message (made only when a caller asks for it)."""

    __slots__ = ("_fields", "delimiters", "index", "raw")

    def __init__(self, raw: str, index: int, d: Delimiters, fields: Fields | None = None) -> None:
        self.raw = raw
        self.index = index
        self.delimiters = d
        self._fields = fields

    @property
    def id(self) -> str:
        return self.raw[:3]

    @property
    def fields(self) -> list[str]:
        """The raw fields (`[0]` is the segment id)."""
        f = self._fields
        if not isinstance(f, list):
            f = self._fields = split_fields(self.raw, self.delimiters) if f is None else list(f)
        return f

    def field(self, n: int) -> str:
        """The raw text of field `n` ("" when absent)."""
        f = self._fields
        if f is None:
            f = self._fields = split_fields(self.raw, self.delimiters)
        return f[n] if n < len(f) else ""

    def get(self, n: int, comp: int | None = None, sub: int | None = None, rep: int = 1, text: bool = False) -> str | None:
        """The (unescaped) value of field `n`, or of one of its parts; `None` when empty."""
        f = self._fields
        if f is None:
            f = self._fields = split_fields(self.raw, self.delimiters)
        if n >= len(f):
            return None
        if n <= 2 and self.raw[:3] in HEADERS:
            return f[n] or None  # MSH-1 and MSH-2 are never split or unescaped
        return leaf(f[n], self.delimiters, rep, comp, sub, text)

    def is_null(self, n: int) -> bool:
        """Whether field `n` is the explicit null `""` (delete), as opposed to empty."""
        return self.field(n) == NULL

    def repetitions(self, n: int) -> list[str]:
        """The raw repetitions of field `n` (none when it is empty)."""
        raw = self.field(n)
        if n <= 2 and self.raw[:3] in HEADERS:
            return [raw] if raw else []
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
