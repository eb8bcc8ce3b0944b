"""A loop of a transaction set, as a view over the set's segments (made only when asked for)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from medlake.formats.x12.build import LoopTree
from medlake.formats.x12.segment import Segment, parse_ref

if TYPE_CHECKING:
    from medlake.formats.x12.transaction import TransactionSet


class Loop:
    """One loop: its id (`2300`), its segment range in the set, and the loops inside it.

    The set itself is the root loop, id `ST` (`TA1` for an interchange acknowledgment).
    """

    __slots__ = ("number", "parent", "set", "tree")

    def __init__(self, tset: TransactionSet, tree: LoopTree, number: int = 0, parent: Loop | None = None) -> None:
        self.set = tset
        self.tree = tree
        self.number = number
        """The loop's number in the set's tree (0 is the set; the others in file order)."""
        self.parent = parent

    @property
    def id(self) -> str:
        return self.tree.ids[self.number]

    @property
    def start(self) -> int:
        """Index of the loop's first segment in the set (ST is 0)."""
        return self.tree.starts[self.number]

    @property
    def end(self) -> int:
        """Index after the loop's last segment (its children included)."""
        return self.tree.ends[self.number]

    @property
    def children(self) -> list[Loop]:
        return [Loop(self.set, self.tree, k, self) for k in self.tree.children(self.number)]

    def _own(self) -> Iterator[int]:
        """Indices of the segments in this loop and in none of its children."""
        k = self.start
        tree = self.tree
        for child in tree.children(self.number):
            yield from range(k, tree.starts[child])
            k = tree.ends[child]
        yield from range(k, self.end)

    @property
    def segments(self) -> list[Segment]:
        """This loop's own segments (those of child loops are theirs)."""
        seg = self.set.segment
        return [seg(i) for i in self._own()]

    @property
    def all_segments(self) -> list[Segment]:
        """Every segment in the loop, its children's included, in order."""
        seg = self.set.segment
        return [seg(i) for i in range(self.start, self.end)]

    @property
    def trigger(self) -> Segment:
        """The segment that opened the loop (ST for the set)."""
        return self.set.segment(self.start)

    def walk(self) -> Iterator[Loop]:
        """Every loop below this one, depth first, in file order."""
        for child in self.children:
            yield child
            yield from child.walk()

    def find(self, loop_id: str) -> Loop | None:
        """The first loop below this one with id `loop_id`, or `None`."""
        found = self._numbers(loop_id)
        return self._view(found[0], {}) if found else None

    def find_all(self, loop_id: str) -> list[Loop]:
        """Every loop below this one with id `loop_id`, in file order."""
        views: dict[int, Loop] = {}
        return [self._view(k, views) for k in self._numbers(loop_id)]

    def _numbers(self, loop_id: str) -> list[int]:
        ids = self.tree.ids
        return [k for k in range(self.number + 1, self.tree.subtree_end(self.number)) if ids[k] == loop_id]

    def _view(self, k: int, views: dict[int, Loop]) -> Loop:
        """A view of loop `k` (a descendant of this one), its parents shared through `views`."""
        p = self.tree.parents[k]
        parent = self if p == self.number else views.get(p) or self._view(p, views)
        view = views[k] = Loop(self.set, self.tree, k, parent)
        return view

    def segment(self, sid: str, occurrence: int = 1) -> Segment | None:
        """The `occurrence`-th own segment with id `sid` (from 1), or `None`."""
        seen = 0
        seg_id = self.set.segment_id
        for i in self._own():
            if seg_id(i) == sid:
                seen += 1
                if seen == occurrence:
                    return self.set.segment(i)
        return None

    def all(self, sid: str) -> list[Segment]:
        """Every own segment with id `sid`."""
        seg_id = self.set.segment_id
        return [self.set.segment(i) for i in self._own() if seg_id(i) == sid]

    def get(self, ref: str, occurrence: int = 1) -> str | None:
        """The value at `CLM02` / `CLM05-1` in this loop's own segments; `None` when empty or absent."""
        r = parse_ref(ref)
        seg = self.segment(r.segment, occurrence)
        return None if seg is None else seg.get(r.element, r.component)

    @property
    def hl(self) -> tuple[str, str, str, str] | None:
        """(HL01 id, HL02 parent, HL03 level, HL04 child flag) for an HL loop, else `None`."""
        seg = self.trigger
        if seg.id != "HL":
            return None
        return (seg.element(1), seg.element(2), seg.element(3), seg.element(4))

    def to_json(self) -> dict[str, Any]:
        from medlake.formats.x12.structure import loop_json

        return loop_json(self)

    def __repr__(self) -> str:
        return f"<Loop {self.id} segments {self.start}..{self.end - 1}>"
