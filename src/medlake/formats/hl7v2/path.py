"""Field paths written the way the standard writes them.

`PID.5.1` (segment, field, component), `PID-5-1` (the same), `OBX[3].5` (the third OBX),
`PID.3(2).1` (field 3, second repetition, component 1), `PID.3(2).4.2` (… sub-component 2).
Every index is 1-based; a missing repetition or segment index means the first.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from medlake.errors import ParseError

_PATH = re.compile(
    r"^(?P<seg>[A-Z][A-Z0-9]{2})(?:\[(?P<occ>\d+)\])?"
    r"(?:[.-](?P<field>\d+)(?:\((?P<rep>\d+)\))?"
    r"(?:[.-](?P<comp>\d+)(?:[.-](?P<sub>\d+))?)?)?$"
)


class Path(NamedTuple):
    segment: str
    occurrence: int  # 1-based
    field: int | None
    repetition: int  # 1-based
    component: int | None
    subcomponent: int | None

    def __str__(self) -> str:
        text = self.segment if self.occurrence == 1 else f"{self.segment}[{self.occurrence}]"
        if self.field is None:
            return text
        text += f".{self.field}" + (f"({self.repetition})" if self.repetition != 1 else "")
        if self.component is not None:
            text += f".{self.component}"
            if self.subcomponent is not None:
                text += f".{self.subcomponent}"
        return text


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    m = _PATH.match(text.strip())
    if m is None:
        raise ParseError(
            f"`{text}` is not an HL7 field path; write it as the standard does: "
            "`PID.5.1`, `OBX[3].5`, `PID.3(2).1` or `PID.3(2).4.2`",
            position=text,
        )
    values = [int(m[g]) if m[g] else None for g in ("occ", "field", "rep", "comp", "sub")]
    occ, field, rep, comp, sub = values
    for name, v in (("segment index", occ), ("field", field), ("repetition", rep), ("component", comp), ("sub-component", sub)):
        if v == 0:
            raise ParseError(f"`{text}`: {name} numbers start at 1", position=text)
    return Path(m["seg"], occ or 1, field, rep or 1, comp, sub)
