"""An X12 file as plain JSON, for `medlake inspect`: interchanges → groups → sets → loops → segments.

An element is its text; a composite is the list of its components; a repeated element is
`{"repeats": [...]}` (each repeat a text or a list of components). Segment `n` is the
1-based ordinal in the set (ST is 1), as problem positions count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.formats.x12.separators import Separators

if TYPE_CHECKING:
    from medlake.formats.x12.interchange import Group, Interchange
    from medlake.formats.x12.loop import Loop
    from medlake.formats.x12.parse import X12File
    from medlake.formats.x12.transaction import TransactionSet

Json = str | list[str] | dict[str, list[Any]]


def element_json(raw: str, seps: Separators) -> Json:
    rep, comp = seps.repetition, seps.component
    if rep and rep in raw:
        return {"repeats": [c.split(comp) if comp in c else c for c in raw.split(rep)]}
    return raw.split(comp) if comp in raw else raw


def loop_json(loop: Loop) -> dict[str, Any]:
    seps = loop.set.interchange.separators
    return {
        "loop": loop.id,
        "segments": [
            {"n": s.index + 1, "id": s.id, "elements": [element_json(v, seps) for v in s.elements[1:]]}
            for s in loop.segments
        ],
        "children": [loop_json(c) for c in loop.children],
    }


def set_json(ts: TransactionSet) -> dict[str, Any]:
    return {
        "id": ts.id,
        "control_number": ts.control_number,
        "guide": ts.guide,
        "family": ts.family,
        "version": ts.version,
        "segment_count": len(ts),
        "has_trailer": ts.trailer,
        "line": ts.line,
        "loops": loop_json(ts.loops),
    }


def group_json(g: Group) -> dict[str, Any]:
    return {
        "functional_id": g.functional_id,
        "sender": g.sender,
        "receiver": g.receiver,
        "date": g.date,
        "time": g.time,
        "control_number": g.control_number,
        "version": g.version,
        "has_trailer": g.trailer is not None,
        "sets": [set_json(t) for t in g.sets],
    }


def interchange_json(ic: Interchange) -> dict[str, Any]:
    return {
        "control_number": ic.control_number,
        "sender": [ic.sender_qualifier, ic.sender_id],
        "receiver": [ic.receiver_qualifier, ic.receiver_id],
        "date": ic.date,
        "time": ic.time,
        "version": ic.version,
        "usage": ic.usage,
        "separators": ic.separators.to_json(),
        "line": ic.line,
        "has_trailer": ic.trailer is not None,
        "acks": [set_json(a) for a in ic.acks],
        "groups": [group_json(g) for g in ic.groups],
    }


def file_json(f: X12File) -> dict[str, Any]:
    return {
        "name": f.name,
        "encoding": f.encoding,
        "line_ending": f.line_ending,
        "interchanges": [interchange_json(ic) for ic in f.interchanges],
        "problems": [
            {"position": p.position, "message": p.message, "line": p.line}
            for p in f.problems
        ],
    }
