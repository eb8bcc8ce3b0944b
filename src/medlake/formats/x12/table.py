"""A family's loop table compiled for the builder: triggers keyed by a segment's first three
characters, and the builder's decisions remembered per open-loop path.

Which loop a trigger opens depends only on the trigger (segment id and qualifier) and on the
ids of the loops open at that moment (the *path*, e.g. `ST/2000A/2000B/2300`). Paths are
numbered as they are met, and each (path, trigger) decision is worked out once and then
looked up: on a file of 50,000 claims the table is consulted a few dozen times, the memo
the rest. A `Compiled` lives for one parse (the memo grows with what a file holds, so it is
not kept between files); the entries it starts from are shared.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from medlake.formats.x12.loops import CLOSERS, LOOPS

LOOP, HL, LS, LE, CLOSE, END = range(6)
"""Entry kinds: a loop trigger, an HL, an LS (loop start marker), an LE, a closer, and an
envelope segment (which ends the set: SE, or the next ST/GS/GE/IEA/ISA/TA1 when SE is missing)."""

ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1")

Candidate = tuple[str, frozenset[str]]
Step = tuple[int, Any, int]
"""(depth of the parent in the path, loop id opened, path number after it) — or, when the
depth is negative, a marker: `LAZY`/`QUALIFY` (work it out from the `Entry` in the middle),
`SLOW` (an HL, LS, LE or closer), `ENDS` (an envelope segment), `SKIP` (opens nothing here)."""

LAZY, QUALIFY, SLOW, ENDS, SKIP = -1, -2, -3, -4, -5


_MEMO_LIMIT = 4096


class Entry(NamedTuple):
    kind: int
    offset: int
    """Where element 1 starts in the segment (`NM1*` → 4, `N1*` → 3) when the trigger has a
    qualifier in element 1; 0 when it has none."""
    qualifier: int
    by_value: dict[str, tuple[Candidate, ...]]
    default: tuple[Candidate, ...]
    target: str
    """For a closer (and an LS that has one): the loop it returns to first."""


def key(sid: str, element: str) -> str:
    """What `segment[:3]` is for a segment with this id: 2-character ids take the separator."""
    return sid if len(sid) >= 3 else sid + element


def pick(cands: tuple[Candidate, ...], path: tuple[str, ...]) -> tuple[str | None, int]:
    """The candidate whose parent is open deepest in `path`, and that depth."""
    depth, chosen = -1, None
    for lid, parents in cands:
        d = len(path) - 1
        while d > depth and path[d] not in parents:
            d -= 1
        if d > depth:
            depth, chosen = d, lid
    return chosen, depth


class Compiled:
    """The trigger entries of one family for one element separator, and the path memo.

    `rows[n]` maps a segment's first three characters (and, for a trigger with a qualifier,
    those three characters + the qualifier) to a `Step` for path number `n`.
    """

    def __init__(self, family: str, element: str) -> None:
        self.entries = entries(family, element)
        self.paths: list[tuple[str, ...]] = []
        self.numbers: dict[tuple[str, ...], int] = {}
        self.rows: list[dict[str, Step]] = []
        self.number(("ST",))

    def number(self, path: tuple[str, ...]) -> int:
        """The number of `path`, given (with its row of markers) the first time it is met."""
        n = self.numbers.get(path)
        if n is None:
            n = self.numbers[path] = len(self.paths)
            self.paths.append(path)
            self.rows.append({k: _marker(e) for k, e in self.entries.items()})
        return n

    def step(self, state: int, k: str, entry: Entry) -> Step:
        """Work out (and remember) what trigger `k` does when path `state` is open."""
        value = k[3:] if entry.offset else ""
        cands = entry.by_value.get(value, entry.default) if entry.offset else entry.default
        path = self.paths[state]
        chosen, depth = pick(cands, path) if cands else (None, -1)
        result: Step = (
            (depth, chosen, self.number((*path[: depth + 1], chosen))) if chosen is not None else (SKIP, None, state)
        )
        row = self.rows[state]
        if len(row) < _MEMO_LIMIT:  # qualifiers that are not codes must not grow it forever
            row[k] = result
        return result


def _marker(entry: Entry) -> Step:
    if entry.kind == END:
        return (ENDS, entry, 0)
    if entry.kind != LOOP:
        return (SLOW, entry, 0)
    return (QUALIFY if entry.offset else LAZY, entry, 0)


@lru_cache(maxsize=256)
def entries(family: str, element: str) -> dict[str, Entry]:
    """The trigger entries of `family` keyed by a segment's first three characters."""
    by_seg: dict[str, tuple[int, dict[str, list[Candidate]], list[Candidate]]] = {}
    for d in LOOPS.get(family, ()):
        sid, quals = d.trigger
        if len(quals) > 1:  # pragma: no cover - a table error, caught by the table tests
            raise ValueError(f"loop {d.id}: a trigger names at most one element")
        qual, values = next(iter(quals.items())) if quals else (0, None)
        if qual not in (0, 1) and sid != "HL":  # pragma: no cover - a table error
            raise ValueError(f"loop {d.id}: only HL triggers may qualify on an element after the first")
        _, by_value, default = by_seg.setdefault(sid, (qual, {}, []))
        cand = (d.id, frozenset(d.parents))
        if values is None:
            default.append(cand)
        else:
            for v in (values,) if isinstance(values, str) else values:
                by_value.setdefault(v, []).append(cand)
    table: dict[str, Entry] = {key(sid, element): Entry(END, 0, 0, {}, (), "") for sid in ENVELOPE}
    if not by_seg and family not in CLOSERS:
        return table
    closers = CLOSERS.get(family, {})
    for sid, (qual, by_value, default) in by_seg.items():
        kind = HL if sid == "HL" else LS if sid == "LS" else LOOP
        frozen = {v: tuple(c) + tuple(default) for v, c in by_value.items()}
        offset = len(sid) + 1 if qual == 1 else 0
        table[key(sid, element)] = Entry(kind, offset, qual, frozen, tuple(default), closers.get(sid, ""))
    for sid, kind in (("LS", LS), ("LE", LE)):
        table.setdefault(key(sid, element), Entry(kind, 0, 0, {}, (), closers.get(sid, "")))
    for sid, target in closers.items():
        if sid not in ("LS", "LE"):
            table[key(sid, element)] = Entry(CLOSE, 0, 0, {}, (), target)
    return table
