"""Loops of one transaction set, built from the loop tables as index ranges.

A loop node is a plain list `[loop_id, start, end, children, path_number]` with set-relative
segment indices (`end` exclusive); the set itself is the root node `"ST"`. Nothing is made
per segment: the builder looks at the first three characters of each segment and reads a
qualifier only from trigger segments; decisions come from the table's memo (see
`table.py`). The HL hierarchy is checked on the way: HL01 unique, HL02 naming an earlier
HL01, HL04 agreeing with the children that follow.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from medlake.formats.x12.table import CLOSE, END, HL, LE, LOOP, LS, Compiled, Entry, compiled, pick

Node = list[Any]
"""`[loop_id: str, start: int, end: int, children: list[Node], path_number: int]`."""


class Issue(NamedTuple):
    """A problem found while building loops, at a set-relative segment index."""

    index: int
    loop: str | None
    element: str
    message: str


class _Hierarchy:
    """The HL segments seen so far in one set."""

    __slots__ = ("flags", "issues", "named", "nodes", "seen")

    def __init__(self, issues: list[Issue]) -> None:
        self.nodes: dict[str, Node] = {}
        self.seen: set[str] = set()
        self.flags: list[tuple[int, str | None, str, str]] = []  # (index, loop, HL01, HL04)
        self.named: set[str] = set()
        self.issues = issues

    def place(self, seg: str, rel: int, sep: str, entry: Entry, stack: list[Node], table: Compiled) -> tuple[str | None, int]:
        """(loop id, depth of its parent in the stack) for an HL segment; checks HL01/HL02."""
        parts = seg.split(sep, 5)
        parts += [""] * (5 - len(parts))
        hid, parent, level, child = parts[1], parts[2], parts[3], parts[4].split(sep, 1)[0]
        cands = entry.by_value.get(level, entry.default)
        path = table.paths[stack[-1][4]]
        chosen, depth = pick(cands, path) if cands else (None, -1)
        if hid in self.seen:
            self.issues.append(Issue(rel, chosen, "HL01", f"HL01 `{hid}` repeats an earlier HL01 in this set"))
        if parent:
            self.named.add(parent)
            pnode = self.nodes.get(parent)
            if parent not in self.seen:
                msg = f"HL02 parent `{parent}` does not exist: no earlier HL in this set has HL01 `{parent}`"
                self.issues.append(Issue(rel, chosen, "HL02", msg))
            elif cands and pnode is not None:
                for d in range(len(stack) - 1, -1, -1):
                    if stack[d] is pnode:
                        depth = d
                        break
        if not cands:
            levels = ", ".join(sorted(entry.by_value))
            msg = f"HL03 level `{level}` is not a level of this transaction set ({levels})"
            self.issues.append(Issue(rel, None, "HL03", msg))
        self.flags.append((rel, chosen, hid, child))
        self.seen.add(hid)
        return chosen, depth

    def remember(self, node: Node | None) -> None:
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

    __slots__ = ("hl", "issues", "marks", "sep", "table")

    def __init__(self, table: Compiled, sep: str) -> None:
        self.table = table
        self.sep = sep
        self.issues: list[Issue] = []
        self.hl: _Hierarchy | None = None
        self.marks: list[int] = []

    def handle(self, entry: Entry, s: str, rel: int, stack: list[Node]) -> None:
        kind = entry.kind
        if kind == HL:
            if self.hl is None:
                self.hl = _Hierarchy(self.issues)
            chosen, depth = self.hl.place(s, rel, self.sep, entry, stack, self.table)
            self.hl.remember(self.open(stack, chosen, depth, rel))
        elif kind == LS:
            chosen, depth = None, -1
            if entry.by_value or entry.default:
                parts = s.split(self.sep, 2)
                cands = entry.by_value.get(parts[1] if len(parts) > 1 else "", entry.default)
                chosen, depth = pick(cands, self.table.paths[stack[-1][4]])
            self.open(stack, chosen, depth, rel)
            self.marks.append(len(stack))
        elif kind == LE:
            if self.marks:
                pop_to(stack, self.marks.pop(), rel)
        elif kind == CLOSE:
            for d in range(len(stack) - 1, -1, -1):
                if stack[d][0] == entry.target:
                    pop_to(stack, d + 1, rel)
                    break

    def open(self, stack: list[Node], chosen: str | None, depth: int, rel: int) -> Node | None:
        if chosen is None:
            return None
        pop_to(stack, depth + 1, rel)
        path = (*self.table.paths[stack[-1][4]], chosen)
        node: Node = [chosen, rel, 0, [], self.table.number(path)]
        stack[-1][3].append(node)
        stack.append(node)
        return node


def pop_to(stack: list[Node], size: int, rel: int) -> None:
    while len(stack) > size:
        stack.pop()[2] = rel


def build_loops(segs: list[str], start: int, sep: str, family: str) -> tuple[Node, list[Issue], int]:
    """The loop tree of the set whose ST is segs[start], read up to its SE.

    Returns (root node, issues, the index of the envelope segment that ended the set: its SE,
    or the next ST/GS/GE/IEA/ISA/TA1 when SE is missing, or `len(segs)` at the end).
    """
    table = compiled(family, sep)
    entries = table.entries
    rows = table.rows
    slow = _Slow(table, sep)
    root: Node = ["ST", 0, 0, [], 0]
    stack: list[Node] = [root]
    get = entries.get
    stop = len(segs)
    for rel, s in enumerate(segs[start + 1 :], 1):
        k = s[:3]
        entry = get(k)
        if entry is None:
            continue
        if entry[0] != LOOP:
            if entry[0] == END:
                stop = start + rel
                break
            slow.handle(entry, s, rel, stack)
            continue
        off = entry[1]
        if off:
            j = s.find(sep, off)
            k += s[off:j] if j >= 0 else s[off:]
        top = stack[-1]
        step = rows[top[4]].get(k)
        if step is None:
            step = table.step(top[4], k, entry)
        depth, chosen, after = step
        if chosen is None:
            continue
        while len(stack) > depth + 1:
            stack.pop()[2] = rel
        node = [chosen, rel, 0, [], after]
        stack[-1][3].append(node)
        stack.append(node)
    body = stop - start
    pop_to(stack, 1, body)
    root[2] = body + 1 if stop < len(segs) and segs[stop][:3] == "SE" + sep else body
    if slow.hl is not None:
        slow.hl.check_children()
    return root, slow.issues, stop
