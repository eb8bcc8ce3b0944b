"""An interchange (ISA … IEA) and its functional groups (GS … GE).

An interchange owns its segment strings and the gap after each (terminator plus any line
break), so its text is rebuilt exactly; groups and sets are index ranges into them.
"""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING, overload

from medlake.formats.x12.separators import Separators

if TYPE_CHECKING:
    from medlake.formats.x12.transaction import TransactionSet


class _Element:
    """A header element as a read-only attribute: `None` when empty or absent."""

    def __init__(self, n: int, doc: str, strip: bool = False) -> None:
        self.n = n
        self.strip = strip
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Element: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> str | None: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> _Element | str | None:
        if obj is None:
            return self
        elements: list[str] | None = getattr(obj, "header")  # noqa: B009 - slots classes
        if elements is None or self.n >= len(elements):
            return None
        value = elements[self.n].strip() if self.strip else elements[self.n]
        return value or None


class Group:
    """A functional group: GS, its transaction sets, GE. `header` is `None` for sets that
    came without a GS (the problem list says so)."""

    __slots__ = ("end", "header", "index", "interchange", "sets", "start", "trailer")

    def __init__(self, interchange: Interchange, index: int, start: int, header: list[str] | None) -> None:
        self.interchange = interchange
        self.index = index
        self.start = start
        """Index of GS (of the first set when there is no GS) in the interchange's segments."""
        self.end = start
        """Index after GE (after the last segment of the group when GE is missing)."""
        self.header = header
        self.trailer: list[str] | None = None
        self.sets: list[TransactionSet] = []

    functional_id = _Element(1, "GS01: HC, HP, HS, HB, HR, HN, BE, FA …")
    sender = _Element(2, "GS02 application sender code")
    receiver = _Element(3, "GS03 application receiver code")
    date = _Element(4, "GS04 CCYYMMDD")
    time = _Element(5, "GS05 HHMM[SS[d..]]")
    control_number = _Element(6, "GS06")
    agency = _Element(7, "GS07, `X`")
    version = _Element(8, "GS08: `005010X222A1` …")

    def __repr__(self) -> str:
        return f"<Group {self.functional_id} {self.control_number} ({len(self.sets)} sets)>"


class Interchange:
    """One ISA … IEA envelope (or, for a file without one, the segments that stood in for it:
    then `header` is `None`)."""

    __slots__ = (
        "_lines",
        "acks",
        "first_segment",
        "gaps",
        "groups",
        "header",
        "index",
        "line",
        "newline",
        "offset",
        "segments",
        "separators",
        "trailer",
        "transaction_sets",
    )

    def __init__(
        self,
        index: int,
        separators: Separators,
        segments: list[str],
        gaps: list[str],
        *,
        offset: int,
        line: int,
        first_segment: int,
        newline: str,
        header: list[str] | None,
    ) -> None:
        self.index = index
        self.separators = separators
        self.segments = segments
        """Each segment's text, without terminator or line break."""
        self.gaps = gaps
        """What followed each segment: its terminator, and any line break or indentation."""
        self.offset = offset
        """Character offset of the first segment in the decoded file."""
        self.line = line
        """Line of the file the interchange starts on."""
        self.first_segment = first_segment
        """0-based ordinal of the first segment among all segments of the file."""
        self.newline = newline
        self.header = header
        """The ISA elements (`header[13]` is ISA13), or `None` for a file without an ISA."""
        self.trailer: list[str] | None = None
        """The IEA elements, or `None` when the interchange has no IEA."""
        self.groups: list[Group] = []
        self.acks: list[TransactionSet] = []
        """TA1 interchange acknowledgments (as sets of one segment, family `TA1`)."""
        self.transaction_sets: list[TransactionSet] = []
        """Every set and TA1 of the interchange, in file order."""
        self._lines: list[int] | None = None

    control_number = _Element(13, "ISA13")
    sender_qualifier = _Element(5, "ISA05")
    sender_id = _Element(6, "ISA06, padding removed", strip=True)
    receiver_qualifier = _Element(7, "ISA07")
    receiver_id = _Element(8, "ISA08, padding removed", strip=True)
    date = _Element(9, "ISA09 YYMMDD")
    time = _Element(10, "ISA10 HHMM")
    version = _Element(12, "ISA12: `00501`, `00401` …")
    ack_requested = _Element(14, "ISA14: 1 asks for a TA1")
    usage = _Element(15, "ISA15: P production, T test")

    @property
    def label(self) -> str:
        """How problem positions name the interchange: its ISA13, or its ordinal."""
        return self.control_number or f"{self.index + 1} (no ISA)"

    @property
    def text(self) -> str:
        """Exactly the input text of the interchange."""
        return "".join([s + g for s, g in zip(self.segments, self.gaps, strict=True)])

    def to_x12(self) -> str:
        """The interchange rebuilt from its split elements (equal to `text`)."""
        e = self.separators.element
        parts = [e.join(s.split(e)) + g for s, g in zip(self.segments, self.gaps, strict=True)]
        return "".join(parts)

    def line_of(self, i: int) -> int:
        """The file line segment `i` of this interchange starts on."""
        if self._lines is None:
            nl = self.newline
            counts = (s.count(nl) + g.count(nl) for s, g in zip(self.segments, self.gaps, strict=True))
            self._lines = [0, *accumulate(counts)]
        return self.line + self._lines[min(i, len(self._lines) - 1)]

    def __repr__(self) -> str:
        return f"<Interchange {self.label} ({len(self.groups)} groups)>"
