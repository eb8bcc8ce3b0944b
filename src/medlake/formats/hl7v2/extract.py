"""Reading many values fast: `Message.first("PID", "3.1", "5.1", "7")` and
`Message.rows("OBX", "3.1", "5")`.

The paths become steps once (cached per tuple of paths). On a message that is still one
text, a `Matcher` (one regex per segment id, paths, delimiters and terminator, kept on the
`Delimiters`) finds the segments and captures the values in C; it only matches fields that
hold no repetition, sub-component or escape character, and hands any other segment to `row`.
`row` splits one segment once, only as far as the highest field asked for, reads plain values
inline and everything else through `leaf`. Either way the values are the ones `Message.get`
returns (the property tests check it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import Any

from medlake.formats.hl7v2.delimiters import Delimiters
from medlake.formats.hl7v2.fields import HEADERS, NULL, Segment, leaf
from medlake.formats.hl7v2.path import parse_path

Step = tuple[int, int, int, int | None, int | None]
"""How to read one path inside a segment: (field, kind, repetition, component, sub-component).
Kind 0 is a whole field, 1 its first component (both read inline when plain), 2 anything else."""

Plan = tuple[tuple[Step, ...], int]
"""The steps, and how many times to split the segment (fields past that stay unsplit)."""

PLANS: dict[tuple[str, ...], Plan] = {}
"""Plans by their paths; cleared when it grows past `PLAN_CACHE`."""

PLAN_CACHE = 1024

Row = tuple[str | None, ...]


def kind(rep: int, comp: int | None, sub: int | None) -> int:
    if rep == 1 and sub is None:
        if comp is None:
            return 0
        if comp == 1:
            return 1
    return 2


def plan(paths: tuple[str, ...]) -> Plan:
    """The plan for `paths`, written without a segment id (`"5"`, `"3.1"`, `"3(2).4.2"`)."""
    steps = []
    for path in paths:
        _, _, n, rep, comp, sub = parse_path("ZZZ." + path)
        if n is None:  # pragma: no cover - the pattern always has a field after "ZZZ."
            raise ValueError(path)
        steps.append((n, kind(rep, comp, sub), rep, comp, sub))
    if len(PLANS) >= PLAN_CACHE:
        PLANS.clear()
    made = PLANS[paths] = (tuple(steps), max((s[0] for s in steps), default=0) + 1)
    return made


def row(s: str, steps: tuple[Step, ...], top: int, d: Delimiters, text: bool) -> Row:
    """The values of one segment `s` (not a header segment) for `steps`."""
    f = s.split(d.field, top)
    size = len(f)
    plain = d.repetition not in s and d.subcomponent not in s and d.escape not in s
    out: list[str | None] = []
    for n, k, rep, comp, sub in steps:
        raw = f[n] if n < size else ""
        if not raw:
            out.append(None)
        elif plain and k == 1:
            head = raw.partition(d.component)[0]
            out.append(head if head and head != NULL else None)
        elif plain and k == 0 and d.component not in raw:
            out.append(raw if raw != NULL else None)
        else:
            out.append(leaf(raw, d, rep, comp, sub, text))
    return tuple(out)


def header_row(seg: Segment, paths: tuple[str, ...], text: bool) -> Row:
    """`row` for a header segment (MSH, FHS, BHS), whose first two fields are never split."""
    out = []
    for path in paths:
        _, _, n, rep, comp, sub = parse_path("ZZZ." + path)
        out.append(seg.get(n or 0, comp, sub, rep, text))
    return tuple(out)


class Matcher:
    """One regex that reads `paths` from every plain `sid` segment of a message's text.

    For each segment it captures the values (when the fields read hold no repetition,
    sub-component or escape character and every field and component read is there) or, in
    its last group, the rest of the segment, which `row` then reads the slow way.
    """

    __slots__ = ("cut", "key", "order", "pattern", "sid", "steps", "top")

    def __init__(self, sid: str, steps: tuple[Step, ...], top: int, d: Delimiters, term: str) -> None:
        self.sid, self.steps, self.top = sid, steps, top
        self.key = term + sid
        order = sorted(range(len(steps)), key=lambda i: (steps[i][0], steps[i][3] or 0))
        self.order = None if order == sorted(order) else tuple(order.index(i) for i in range(len(steps)))
        end, fs, cs = _chars(term), _chars(d.field), _chars(d.component)
        plain = fs + end + _chars(d.repetition + d.subcomponent + d.escape)  # not in a plain field
        parts, at, i = [], 0, 0
        while i < len(order):
            n = steps[order[i]][0]
            parts.append(f"{fs}[^{fs}{end}]*" * (n - at - 1) + fs)  # unrolled: sre repeats groups slowly
            comps = []
            while i < len(order) and steps[order[i]][0] == n:
                comps.append(steps[order[i]][3])
                i += 1
            if comps == [None]:
                parts.append(f"([^{plain}]*)")
            else:
                c_at = 1
                for c in comps:
                    assert c is not None  # `matcher` lets no whole field share its field
                    parts.append(f"[^{plain}{cs}]*{cs}" * (c - c_at) + f"([^{plain}{cs}]*)")
                    c_at = c
                parts.append(f"[^{plain}]*")
            at = n
        body = "".join(parts) + f"(?=[{fs}{end}]|\\Z)"
        self.pattern = re.compile(f"{end}{_chars(sid)}(?:{body}|([^{end}]*))")
        # the captures of a match, in the order of the paths (the last group is the rest);
        # typeshed has no overload of itemgetter for a slice, which returns a tuple
        captures: Any = slice(0, len(steps))
        self.cut: Callable[[tuple[str, ...]], Row] = (
            itemgetter(*self.order) if self.order is not None and len(steps) > 1 else itemgetter(captures)
        )

    def read(self, found: tuple[str, ...], d: Delimiters, text: bool) -> Row:
        """The row for one match: its captures, or the rest of a segment that is not plain."""
        rest = found[-1]
        if rest:
            return row(self.sid + rest, self.steps, self.top, d, text)
        values: Row = found[:-1]
        if "" in values or NULL in values:
            values = tuple(v if v and v != NULL else None for v in values)
        if self.order is not None:
            values = tuple(values[i] for i in self.order)
        return values


def find_rows(m: Matcher, body: str, start: int, d: Delimiters, text: bool) -> list[Row]:
    """Every `sid` row of a message's text from `start` on (the fast path of `Message.rows`)."""
    found = m.pattern.findall(body, start)
    if any(map(_REST, found)):  # some segment is not plain
        return [m.read(t, d, text) for t in found]
    rows: list[Row] = list(map(m.cut, found))
    values = set(chain.from_iterable(rows))
    if "" in values or NULL in values:
        rows = [tuple(v if v and v != NULL else None for v in t) for t in rows]
    return rows


_REST = itemgetter(-1)


def matcher(sid: str, paths: tuple[str, ...], d: Delimiters, term: str) -> Matcher | None:
    """The `Matcher` for these paths, or None when a path reaches into repetitions or
    sub-components, or a field is read both whole and by component (then `row` reads each
    segment), or `sid` is a header segment or no segment id."""
    steps, top = PLANS.get(paths) or plan(paths)
    if not steps or len(sid) != 3 or sid in HEADERS or any(rep != 1 or sub is not None for _, _, rep, _, sub in steps):
        return None
    by_field: dict[int, list[int | None]] = {}
    for n, _, _, comp, _ in steps:
        by_field.setdefault(n, []).append(comp)
    for comps in by_field.values():
        if len(set(comps)) != len(comps) or (None in comps and len(comps) > 1):
            return None
    return Matcher(sid, steps, top, d, term)


def _chars(text: str) -> str:
    """`text` with every character written as a regex escape (safe inside and outside [])."""
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\U{ord(c):08x}" for c in text)
