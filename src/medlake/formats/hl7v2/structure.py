"""A message as plain JSON, for `medlake inspect` and for comparing with other tools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.formats.hl7v2.escape import unescape

if TYPE_CHECKING:
    from medlake.formats.hl7v2.message import Message

Json = str | None | list[Any]


def _leaf(raw: str, msg: Message) -> str | None:
    return None if raw == '""' else unescape(raw, msg.delimiters)


def _collapse(parts: list[Json]) -> Json:
    return parts[0] if len(parts) == 1 else parts


def field_json(raw: str, msg: Message) -> Json:
    d = msg.delimiters
    reps: list[Json] = []
    for r in raw.split(d.repetition):
        comps: list[Json] = []
        for c in r.split(d.component):
            comps.append(_collapse([_leaf(s, msg) for s in c.split(d.subcomponent)]))
        reps.append(_collapse(comps))
    return _collapse(reps)


def message_json(msg: Message) -> dict[str, Any]:
    d = msg.delimiters
    segments = []
    for i, seg in enumerate(msg.segments):
        fields = msg.fields(i)
        out: list[Json] = []
        for n, raw in enumerate(fields[1:], start=1):
            if n <= 2 and seg[:3] in ("MSH", "FHS", "BHS"):
                out.append(raw)
            else:
                out.append(field_json(raw, msg))
        segments.append({"id": seg[:3], "fields": out})
    return {
        "index": msg.index,
        "line": msg.line,
        "batch": msg.batch,
        "type": msg.message_type,
        "trigger": msg.trigger,
        "structure": msg.structure,
        "control_id": msg.control_id,
        "version": msg.version,
        "delimiters": d.field + d.encoding_characters,
        "terminator": msg.terminator,
        "segments": segments,
    }
