"""Records → persons: clusters from link edges, with must-link and cannot-link constraints.

Must-link pairs are joined first (an HL7 A40 merge, a manual link). Link edges are then added
strongest first; an edge that would put a cannot-link pair in one cluster is skipped, so a
component that only an unlink separates is split along its weakest edges (greedy, by weight).
Without cannot-links this is plain connected components. A cluster's id is its smallest
record id, so the result does not depend on edge order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from medlake.errors import ConfigError


class _Forest:
    """Union–find over record positions with, per root, the positions it must never join."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.forbidden: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def allowed(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        small, other = sorted((ra, rb), key=lambda r: len(self.forbidden.get(r, ())))
        return not any(self.find(x) == other for x in self.forbidden.get(small, ()))

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        moved = self.forbidden.pop(rb, None)
        if moved:
            self.forbidden.setdefault(ra, set()).update(moved)


def cluster(
    record_ids: Sequence[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """record_id → cluster_id (smallest record id of its cluster) for every record.

    `edges` are (record_id, record_id, weight) link edges; must-link pairs always share a
    cluster; cannot-link pairs never do. A must-link chain that joins a cannot-link pair is a
    contradiction and raises `ConfigError`.
    """
    position = {rid: i for i, rid in enumerate(record_ids)}
    forest = _Forest(len(record_ids))
    for a, b in _positions(position, must_link, "must_link"):
        forest.union(a, b)
    for a, b in _positions(position, cannot_link, "cannot_link"):
        if forest.find(a) == forest.find(b):
            raise ConfigError(
                f"records `{record_ids[a]}` and `{record_ids[b]}` are both must-linked (directly or through "
                "other must-links) and cannot-linked; remove one of the two overrides",
                record_ids=(record_ids[a], record_ids[b]),
            )
        forest.forbidden.setdefault(forest.find(a), set()).add(b)
        forest.forbidden.setdefault(forest.find(b), set()).add(a)
    if forest.forbidden:  # order matters only when an edge can be refused
        ordered = sorted(((w, min(x, y), max(x, y)) for x, y, w in edges), key=lambda e: (-e[0], e[1], e[2]))
        for _, x, y in ordered:
            a, b = position[x], position[y]
            if forest.allowed(a, b):
                forest.union(a, b)
    else:
        for x, y, _ in edges:
            forest.union(position[x], position[y])
    smallest: dict[int, str] = {}
    for rid, i in position.items():
        root = forest.find(i)
        if root not in smallest or rid < smallest[root]:
            smallest[root] = rid
    return {rid: smallest[forest.find(i)] for rid, i in position.items()}


def _positions(position: dict[str, int], pairs: Iterable[tuple[str, str]], what: str) -> list[tuple[int, int]]:
    out = []
    for a, b in pairs:
        for rid in (a, b):
            if rid not in position:
                raise ConfigError(
                    f"{what} names record `{rid}`, which is not among the input records; "
                    "drop the override or include the record",
                    record_id=rid,
                )
        out.append((position[a], position[b]))
    return out
