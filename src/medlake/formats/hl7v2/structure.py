"""A message as plain JSON, for `medlake inspect` and for comparing with other tools.

A field is a string when it holds one value, else the list of its repetitions; a repetition
is a string when it holds one value, else the list of its components; a component is a string
when it holds one value, else the list of its sub-components. So `A~B` is `["A", "B"]`, `A^B`
is `[["A", "B"]]` and `A&B` is `[[["A", "B"]]]`: the depth of a list says its level. Values
are unescaped; the explicit null `""` is `null`, an empty value `""`. MSH-1 and MSH-2 (and
FHS/BHS-1 and -2) are given as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.formats.hl7v2.escape import unescape
from medlake.formats.hl7v2.fields import HEADERS, NULL

if TYPE_CHECKING:
    from medlake.formats.hl7v2.delimiters import Delimiters
    from medlake.formats.hl7v2.message import Message

Json = str | None | list[Any]


def _one(parts: list[Json]) -> Json:
    """A single part that is a value stands for its level; several (or a list) stay a list."""
    return parts[0] if len(parts) == 1 and not isinstance(parts[0], list) else parts


def field_json(raw: str, d: Delimiters) -> Json:
    return _one([
        _one([
            _one([None if s == NULL else unescape(s, d) for s in c.split(d.subcomponent)])
            for c in r.split(d.component)
        ])
        for r in raw.split(d.repetition)
    ])


def message_json(msg: Message) -> dict[str, Any]:
    d = msg.delimiters
    segments = []
    for i, seg in enumerate(msg.segments):
        fields = msg.fields(i)
        header = len(fields) > 1 and seg[:3] in HEADERS
        out = [raw if header and n <= 2 else field_json(raw, d) for n, raw in enumerate(fields[1:], start=1)]
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
