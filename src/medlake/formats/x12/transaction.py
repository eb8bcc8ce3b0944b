"""One transaction set (ST … SE): its raw text, its segments split on demand, its loops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.formats.x12.build import LoopTree
from medlake.formats.x12.loop import Loop
from medlake.formats.x12.segment import Segment

if TYPE_CHECKING:
    from medlake.formats.x12.interchange import Group, Interchange


class TransactionSet:
    """A transaction set, or a TA1 interchange acknowledgment (`id` and `family` `TA1`).

    Segments are kept as the interchange's raw strings; `segments` splits them into element
    lists the first time it is read. `loops` is the root of the loop tree (id `ST`).
    """

    __slots__ = (
        "_elements",
        "_tree",
        "control_number",
        "end",
        "family",
        "group",
        "guide",
        "id",
        "index",
        "interchange",
        "ordinal",
        "start",
        "trailer",
        "version",
    )

    def __init__(
        self,
        interchange: Interchange,
        group: Group | None,
        start: int,
        end: int,
        *,
        id: str,
        control_number: str,
        guide: str | None,
        family: str,
        version: str | None,
        index: int,
        ordinal: int,
        trailer: bool,
        tree: LoopTree,
    ) -> None:
        self.interchange = interchange
        self.group = group
        self.start = start
        """Index of ST (or TA1) in the interchange's segments."""
        self.end = end
        """Index after SE (after the last segment seen when the set has no SE)."""
        self.id = id
        """ST01: `837`, `835` … (`TA1` for an interchange acknowledgment)."""
        self.control_number = control_number
        """ST02 (TA101 for a TA1)."""
        self.guide = guide
        """ST03, or GS08 when the set does not carry it: `005010X222A1` …"""
        self.family = family
        """`837P`, `837I`, `837D`, `835`, `270`, `271`, `276`, `277`, `277CA`, `834`, `999`,
        `TA1`, or ST01 for a set medlake has no loop table for."""
        self.version = version
        """`5010`, `4010` or `None` (from the guide)."""
        self.index = index
        """0-based position in its group (in its interchange's acks for a TA1)."""
        self.ordinal = ordinal
        """0-based position among all the sets of the file."""
        self.trailer = trailer
        """Whether the set ended with its SE (False when it was cut short)."""
        self._tree = tree
        self._elements: list[list[str]] | None = None

    @property
    def raw_segments(self) -> list[str]:
        """The segments' text, without terminators."""
        return self.interchange.segments[self.start : self.end]

    @property
    def segments(self) -> list[list[str]]:
        """Each segment as its list of elements (`[0]` is the segment id)."""
        if self._elements is None:
            e = self.interchange.separators.element
            self._elements = [s.split(e) for s in self.raw_segments]
        return self._elements

    def segment(self, i: int) -> Segment:
        """A view of segment `i` (0 is ST); splits only that segment unless all are split."""
        seps = self.interchange.separators
        if self._elements is not None:
            return Segment(self._elements[i], i, seps)
        if not 0 <= i < self.end - self.start:
            raise IndexError(f"segment {i} is outside the set (it has {len(self)})")
        return Segment(self.interchange.segments[self.start + i].split(seps.element), i, seps)

    def segment_id(self, i: int) -> str:
        """The id of segment `i`, without splitting it."""
        e = self.interchange.separators.element
        return self.interchange.segments[self.start + i].split(e, 1)[0]

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def text(self) -> str:
        """Exactly the input text from ST through SE, terminators and line breaks included."""
        ic = self.interchange
        a, b = self.start, self.end
        return "".join([s + g for s, g in zip(ic.segments[a:b], ic.gaps[a:b], strict=True)])

    @property
    def loops(self) -> Loop:
        """The root loop (id `ST`): walk it with `.children`, `.find("2300")`, `.get("CLM02")`."""
        return Loop(self, self._tree)

    @property
    def tree(self) -> LoopTree:
        """The loops as parallel arrays (ids, starts, ends, parents), loop 0 being the set."""
        return self._tree

    def find(self, loop_id: str) -> Loop | None:
        return self.loops.find(loop_id)

    def find_all(self, loop_id: str) -> list[Loop]:
        return self.loops.find_all(loop_id)

    @property
    def line(self) -> int:
        """The line of the file the set starts on."""
        return self.interchange.line_of(self.start)

    def envelope(self) -> dict[str, Any]:
        """The envelope facts a bronze row stores beside the set's raw text."""
        ic, g = self.interchange, self.group
        return {
            "interchange_control_number": ic.control_number,
            "sender_qualifier": ic.sender_qualifier,
            "sender_id": ic.sender_id,
            "receiver_qualifier": ic.receiver_qualifier,
            "receiver_id": ic.receiver_id,
            "interchange_date": ic.date,
            "interchange_time": ic.time,
            "interchange_version": ic.version,
            "usage_indicator": ic.usage,
            "functional_id": g.functional_id if g else None,
            "group_control_number": g.control_number if g else None,
            "group_version": g.version if g else None,
            "set_id": self.id,
            "set_control_number": self.control_number,
            "guide": self.guide,
            "family": self.family,
            "version": self.version,
            "segment_count": len(self),
            "has_trailer": self.trailer,
        }

    def to_json(self) -> dict[str, Any]:
        from medlake.formats.x12.structure import set_json

        return set_json(self)

    def __repr__(self) -> str:
        return f"<TransactionSet {self.family} {self.control_number} ({len(self)} segments)>"
