"""The loops of one 837 set, indexed once for mapping: each loop's own segments and children.

`Loop` (formats/x12) is a view made on demand: finding a loop's own segments walks its index
range, and every call makes new views. Mapping reads each loop a dozen times, so the set is
indexed once here from the parser's loop arrays (`TransactionSet.tree`): one `Node` per loop
holding the indices of its own segments. Segments are split (into a `Segment` view) each time
they are read, and those views die young: what outlives a set is what the garbage collector
walks again and again, so nothing per segment is kept (not even `TransactionSet.segments`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from medlake.formats.x12 import Loop, Segment
from medlake.silver.mappings.x12_common import SetMapper, X12ValueError, x12_date, x12_period

if TYPE_CHECKING:
    from medlake.formats.x12 import TransactionSet


WIDTH = 16
_PAD = [""] * WIDTH


class Segments:
    """A set's raw segments and their ids, split into elements only when read."""

    __slots__ = ("element", "ids", "raw", "seps")

    def __init__(self, tset: TransactionSet) -> None:
        self.seps = tset.interchange.separators
        self.element = e = self.seps.element
        self.raw = tset.raw_segments
        self.ids = [r[:2] if r[2:3] == e else r.split(e, 1)[0] for r in self.raw]

    def at(self, i: int) -> Segment:
        return Segment(self.raw[i].split(self.element), i, self.seps)


class Node:
    """One loop: its id, the indices of its own segments, its child loops."""

    __slots__ = ("children", "id", "number", "own", "parent", "segments", "tset")

    def __init__(self, tset: TransactionSet, segments: Segments, number: int, loop_id: str) -> None:
        self.tset = tset
        self.segments = segments
        self.number = number
        self.id = loop_id
        self.own: list[int] = []
        """Indices (in the set) of the loop's own segments, the trigger first."""
        self.children: list[Node] = []
        self.parent: Node | None = None

    @property
    def trigger(self) -> Segment:
        """The segment that opened the loop (ST for the set)."""
        return self.segments.at(self.own[0])

    def seg(self, sid: str) -> Segment | None:
        """The loop's first own segment `sid`, or None."""
        ids = self.segments.ids
        for i in self.own:
            if ids[i] == sid:
                return self.segments.at(i)
        return None

    def all(self, sid: str) -> list[Segment]:
        ids, at = self.segments.ids, self.segments.at
        return [at(i) for i in self.own if ids[i] == sid]

    def fields(self, sid: str) -> list[str] | None:
        """The elements of the first own segment `sid` (`[0]` is the id), padded with "" to
        `WIDTH` so that hot paths index them directly; None when there is none."""
        ids = self.segments.ids
        for i in self.own:
            if ids[i] == sid:
                e = self.segments.raw[i].split(self.segments.element)
                return e + _PAD[len(e) :] if len(e) < WIDTH else e
        return None

    def all_fields(self, sid: str) -> list[list[str]]:
        """The padded elements of every own segment `sid`."""
        ids, raw, sep = self.segments.ids, self.segments.raw, self.segments.element
        out = []
        for i in self.own:
            if ids[i] == sid:
                e = raw[i].split(sep)
                out.append(e + _PAD[len(e) :] if len(e) < WIDTH else e)
        return out

    @property
    def loop(self) -> Loop:
        """The parser's view of this loop (for problem positions)."""
        return Loop(self.tset, self.tset.tree, self.number)

    def find(self, loop_id: str) -> Node | None:
        """The first child loop with id `loop_id`."""
        return next((c for c in self.children if c.id == loop_id), None)

    def __repr__(self) -> str:
        return f"<Node {self.id} #{self.number}>"


def index(tset: TransactionSet) -> list[Node]:
    """Every loop of the set as a `Node` (0 is the set itself), in file order."""
    tree = tset.tree
    ids, starts, ends, parents = tree.ids, tree.starts, tree.ends, tree.parents
    segments = Segments(tset)
    owner = [0] * len(segments.raw)
    for k in range(1, len(ids)):  # loops are in file order, nested ones after their parent
        owner[starts[k] : ends[k]] = [k] * (ends[k] - starts[k])
    nodes = [Node(tset, segments, k, loop_id) for k, loop_id in enumerate(ids)]
    for k in range(1, len(ids)):
        child, parent = nodes[k], nodes[parents[k]]
        child.parent = parent
        parent.children.append(child)
    for i, k in enumerate(owner):
        nodes[k].own.append(i)
    return nodes


# -- values, with problems at the loop's position (its `Loop` view made only then) -------------
def date(m: SetMapper, node: Node, element: str, text: str | None) -> str | None:
    if not text:
        return None
    try:
        return _date(text)
    except X12ValueError as err:
        m.problem(node.loop, element, str(err))
        return None


_date = lru_cache(maxsize=1 << 14)(x12_date)
"""Service dates repeat on every line: each is checked once."""


def period(m: SetMapper, node: Node, element: str, qualifier: str | None, text: str | None) -> dict[str, Any] | None:
    try:
        return x12_period(qualifier, text, m.ctx.timezone)
    except X12ValueError as err:
        m.problem(node.loop, element, str(err))
        return None
