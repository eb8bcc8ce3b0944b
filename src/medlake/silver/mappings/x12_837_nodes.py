"""The loops of one 837 set, indexed once for mapping: each loop's own segments by id.

`Loop` (formats/x12) is a view made on demand: finding a loop's own segments walks its index
range, and every call makes new views. Mapping reads each loop a dozen times, so the set is
indexed once here, from the parser's loop arrays (`TransactionSet.tree`) and split segments:
one `Node` per loop, one `Segment` per segment, nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medlake.formats.x12 import Loop, Segment
from medlake.silver.mappings.x12_common import SetMapper, X12ValueError, x12_date, x12_period

if TYPE_CHECKING:
    from medlake.formats.x12 import TransactionSet


class Node:
    """One loop: its id, its own segments by segment id, its child loops."""

    __slots__ = ("children", "id", "number", "own", "parent", "trigger", "tset")

    def __init__(self, tset: TransactionSet, number: int, loop_id: str) -> None:
        self.tset = tset
        self.number = number
        self.id = loop_id
        self.own: dict[str, list[Segment]] = {}
        self.children: list[Node] = []
        self.parent: Node | None = None
        self.trigger: Segment
        """The segment that opened the loop (ST for the set)."""

    def seg(self, sid: str) -> Segment | None:
        """The loop's first own segment `sid`, or None."""
        found = self.own.get(sid)
        return found[0] if found else None

    def all(self, sid: str) -> list[Segment]:
        return self.own.get(sid, [])

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
    elements = tset.segments
    owner = [0] * len(elements)
    for k in range(1, len(ids)):  # loops are in file order, nested ones after their parent
        owner[starts[k] : ends[k]] = [k] * (ends[k] - starts[k])
    nodes = [Node(tset, k, loop_id) for k, loop_id in enumerate(ids)]
    for k in range(1, len(ids)):
        child, parent = nodes[k], nodes[parents[k]]
        child.parent = parent
        parent.children.append(child)
    seps = tset.interchange.separators
    for i, els in enumerate(elements):
        node = nodes[owner[i]]
        own = node.own
        seg = Segment(els, i, seps)
        if starts[node.number] == i:
            node.trigger = seg
        found = own.get(els[0])
        if found is None:
            own[els[0]] = [seg]
        else:
            found.append(seg)
    return nodes


# -- values, with problems at the loop's position (its `Loop` view made only then) -------------
def date(m: SetMapper, node: Node, element: str, text: str | None) -> str | None:
    try:
        return x12_date(text)
    except X12ValueError as err:
        m.problem(node.loop, element, str(err))
        return None


def period(m: SetMapper, node: Node, element: str, qualifier: str | None, text: str | None) -> dict[str, str] | None:
    try:
        return x12_period(qualifier, text)
    except X12ValueError as err:
        m.problem(node.loop, element, str(err))
        return None
