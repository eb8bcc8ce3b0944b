"""Loops of one transaction set, built from the loop tables as index ranges.

The loops of a set are a `LoopTree`: parallel arrays (id, start, end, parent, path number)
indexed by loop number in file order, node 0 being the set itself (`ST`). Segment indices are
set-relative and `end` is exclusive. Nothing is made per segment or per loop but array
entries (so the garbage collector has nothing to walk): the builder looks at the first three
characters of each segment and reads a qualifier only from trigger segments; decisions come
from the table's memo (see `table.py`). The HL hierarchy is checked on the way: HL01 unique,
HL02 naming an earlier HL01, HL04 agreeing with the children that follow.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

from medlake.formats.x12.table import (
    CLOSE,
    ENDS,
    HL,
    LAZY,
    LE,
    LS,
    QUALIFY,
    SKIP,
    Compiled,
    Entry,
    pick,
)

MAX_DEPTH = 24
"""HL02 may nest an HL under any earlier one; past this depth it is placed by its level
instead (a chain of HLs each naming the one before must not grow paths without bound)."""


class LoopTree:
    """The loops of one set as parallel arrays; loop 0 is the set itself."""

    __slots__ = ("ends", "ids", "parents", "starts", "states")

    def __init__(self, root: str = "ST", length: int = 0) -> None:
        self.ids: list[str] = [root]
        self.starts: list[int] = [0]
        self.ends: list[int] = [length]
        self.parents: list[int] = [-1]
        self.states: list[int] = [0]

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, loop: str, start: int, parent: int, state: int) -> int:
        self.ids.append(loop)
        self.starts.append(start)
        self.ends.append(0)
        self.parents.append(parent)
        self.states.append(state)
        return len(self.ids) - 1

    def subtree_end(self, k: int) -> int:
        """The first loop number after loop `k`'s descendants (loops are in file order)."""
        return bisect_left(self.starts, self.ends[k], k + 1) if k else len(self.ids)

    def children(self, k: int) -> list[int]:
        parents = self.parents
        return [j for j in range(k + 1, self.subtree_end(k)) if parents[j] == k]


class Issue(NamedTuple):
    """A problem found while building loops, at a set-relative segment index."""

    at: int
    """Set-relative segment index."""
    loop: str | None
    element: str
    message: str


class _Hierarchy:
    """The HL segments seen so far in one set."""

    __slots__ = ("flags", "issues", "named", "nodes", "seen")

    def __init__(self, issues: list[Issue]) -> None:
        self.nodes: dict[str, int] = {}
        self.seen: set[str] = set()
        self.flags: list[tuple[int, str | None, str, str]] = []  # (index, loop, HL01, HL04)
        self.named: set[str] = set()
        self.issues = issues

    def place(self, seg: str, rel: int, sep: str, entry: Entry, stack: list[int], tree: LoopTree, table: Compiled) -> tuple[str | None, int]:
        """(loop id, depth of its parent in the stack) for an HL segment; checks HL01/HL02."""
        parts = seg.split(sep, 5)
        parts += [""] * (5 - len(parts))
        hid, parent, level, child = parts[1], parts[2], parts[3], parts[4].split(sep, 1)[0]
        cands = entry.by_value.get(level, entry.default)
        path = table.paths[tree.states[stack[-1]]]
        chosen, depth = pick(cands, path) if cands else (None, -1)
        if hid in self.seen:
            self.issues.append(Issue(rel, chosen, "HL01", f"HL01 `{hid}` repeats an earlier HL01 in this set"))
        if parent:
            self.named.add(parent)
            pnode = self.nodes.get(parent)
            if parent not in self.seen:
                msg = f"HL02 parent `{parent}` does not exist: no earlier HL in this set has HL01 `{parent}`"
                self.issues.append(Issue(rel, chosen, "HL02", msg))
            elif cands and pnode is not None and pnode in stack and stack.index(pnode) < MAX_DEPTH:
                depth = stack.index(pnode)
        if not cands:
            levels = ", ".join(sorted(entry.by_value))
            msg = f"HL03 level `{level}` is not a level of this transaction set ({levels})"
            self.issues.append(Issue(rel, None, "HL03", msg))
        self.flags.append((rel, chosen, hid, child))
        self.seen.add(hid)
        return chosen, depth

    def remember(self, node: int | None) -> None:
        hid = self.flags[-1][2]
        if node is not None and hid not in self.nodes:
            self.nodes[hid] = node

    def check_children(self) -> None:
        for rel, loop, hid, flag in self.flags:
            has = hid in self.named
            if flag == "1" and not has:
                msg = f"HL04 says HL `{hid}` has child HLs, but no later HL names it in HL02"
                self.issues.append(Issue(rel, loop, "HL04", msg))
            elif flag == "0" and has:
                msg = f"HL04 says HL `{hid}` has no child HLs, but a later HL names it in HL02"
                self.issues.append(Issue(rel, loop, "HL04", msg))


class _Slow:
    """The rare triggers (HL, LS/LE, closers): per-set state the hot loop does not carry."""

    __slots__ = ("hl", "issues", "marks", "sep", "table", "tree")

    def __init__(self, table: Compiled, tree: LoopTree, sep: str) -> None:
        self.table = table
        self.tree = tree
        self.sep = sep
        self.issues: list[Issue] = []
        self.hl: _Hierarchy | None = None
        self.marks: list[int] = []

    def handle(self, entry: Entry, s: str, rel: int, stack: list[int]) -> None:
        kind = entry.kind
        if kind == HL:
            if self.hl is None:
                self.hl = _Hierarchy(self.issues)
            chosen, depth = self.hl.place(s, rel, self.sep, entry, stack, self.tree, self.table)
            self.hl.remember(self.open(stack, chosen, depth, rel))
        elif kind == LS:
            if entry.target:
                self.close(entry.target, stack, rel)
            chosen, depth = None, -1
            if entry.by_value or entry.default:
                parts = s.split(self.sep, 2)
                cands = entry.by_value.get(parts[1] if len(parts) > 1 else "", entry.default)
                chosen, depth = pick(cands, self.table.paths[self.tree.states[stack[-1]]])
            self.open(stack, chosen, depth, rel)
            self.marks.append(len(stack))
        elif kind == LE:
            if self.marks:
                self.pop_to(stack, self.marks.pop(), rel)
        elif kind == CLOSE:
            self.close(entry.target, stack, rel)

    def close(self, target: str, stack: list[int], rel: int) -> None:
        """Back to the innermost open loop `target` (nothing happens when none is open)."""
        ids = self.tree.ids
        for d in range(len(stack) - 1, -1, -1):
            if ids[stack[d]] == target:
                self.pop_to(stack, d + 1, rel)
                return

    def open(self, stack: list[int], chosen: str | None, depth: int, rel: int) -> int | None:
        if chosen is None:
            return None
        self.pop_to(stack, depth + 1, rel)
        tree = self.tree
        state = self.table.number((*self.table.paths[tree.states[stack[-1]]], chosen))
        node = tree.add(chosen, rel, stack[-1], state)
        stack.append(node)
        return node

    def pop_to(self, stack: list[int], size: int, rel: int) -> None:
        ends = self.tree.ends
        while len(stack) > size:
            ends[stack.pop()] = rel


def build_loops(segs: list[str], start: int, sep: str, table: Compiled) -> tuple[LoopTree, list[Issue], int]:
    """The loop tree of the set whose ST is segs[start], read up to its SE, with the loop
    table of its family (compiled for the separator `sep`).

    Returns (tree, issues, the index of the envelope segment that ended the set: its SE, or
    the next ST/GS/GE/IEA/ISA/TA1 when SE is missing, or `len(segs)` at the end).
    """
    rows = table.rows
    tree = LoopTree()
    ids, starts, ends, parents, states = tree.ids, tree.starts, tree.ends, tree.parents, tree.states
    slow = _Slow(table, tree, sep)
    stack = [0]
    row = rows[0]
    stop = len(segs)
    for rel, s in enumerate(segs[start + 1 :], 1):
        step = row.get(s[:3])
        if step is None:
            continue
        depth = step[0]
        if depth < 0:
            if depth == QUALIFY:
                off = step[1].offset
                j = s.find(sep, off)
                k = s[:3] + (s[off:j] if j >= 0 else s[off:])
                step = row.get(k) or table.step(states[stack[-1]], k, step[1])
                depth = step[0]
                if depth < 0:
                    continue
            elif depth == LAZY:
                step = table.step(states[stack[-1]], s[:3], step[1])
                depth = step[0]
                if depth < 0:
                    continue
            elif depth == SKIP:
                continue
            elif depth == ENDS:
                stop = start + rel
                break
            else:
                slow.handle(step[1], s, rel, stack)
                row = rows[states[stack[-1]]]
                continue
        while len(stack) > depth + 1:
            ends[stack.pop()] = rel
        stack.append(len(ids))
        ids.append(step[1])
        starts.append(rel)
        ends.append(0)
        parents.append(stack[-2])
        states.append(step[2])
        row = rows[step[2]]
    body = stop - start
    slow.pop_to(stack, 1, body)
    ends[0] = body + 1 if stop < len(segs) and segs[stop][:3] == "SE" + sep else body
    if slow.hl is not None:
        slow.hl.check_children()
    return tree, slow.issues, stop
