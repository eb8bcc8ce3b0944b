"""HL7 v2 delimiters, read from the header segment that declares them (MSH, FHS or BHS).

The character right after the segment id is the field separator (MSH-1); the next field
(MSH-2) lists the component, repetition, escape and sub-component characters, and from
v2.7 optionally a fifth, the truncation character.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_ENCODING = "^~\\&"


@dataclass(frozen=True, slots=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""
    matchers: dict[Any, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False, repr=False)
    """Compiled readers for these delimiters (`extract.py`); not part of the value."""

    @property
    def encoding_characters(self) -> str:
        """MSH-2 as it is written: component, repetition, escape, sub-component[, truncation]."""
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation


DEFAULT = Delimiters()


@lru_cache(maxsize=64)
def _declared(fs: str, enc: str) -> Delimiters:
    """One `Delimiters` per declaration, so that what is compiled for them is shared."""
    if fs + enc == "|" + DEFAULT_ENCODING:
        return DEFAULT
    return Delimiters(fs, enc[0], enc[1], enc[2], enc[3], enc[4] if len(enc) == 5 else "")


def read_delimiters(header: str) -> tuple[Delimiters, str | None]:
    """The delimiters a header segment (`MSH|^~\\&|…`) declares, and a problem sentence if it
    declares them badly (then the standard defaults fill the gaps)."""
    if len(header) < 4:
        return DEFAULT, f"`{header[:3]}` has no field separator; the default delimiters `|^~\\&` are assumed"
    fs = header[3]
    if fs.isalnum() or fs in "\r\n":
        return DEFAULT, f"`{header[:3]}` field separator {fs!r} is not allowed; the default delimiters are assumed"
    end = header.find(fs, 4)
    enc = header[4:] if end < 0 else header[4:end]
    if len(enc) in (4, 5) and len(set(enc + fs)) == len(enc) + 1:
        return _declared(fs, enc), None
    if not enc:
        problem = f"`{header[:3]}-2` (encoding characters) is empty; the defaults `^~\\&` are assumed"
    elif len(enc) not in (4, 5):
        problem = (
            f"`{header[:3]}-2` (encoding characters) {enc!r} has {len(enc)} characters; 4 or 5 are allowed; "
            "the defaults fill the missing ones"
        )
    else:
        problem = f"`{header[:3]}-2` (encoding characters) {enc!r} repeats a character or the field separator"
    chars = list(DEFAULT_ENCODING)
    for i, c in enumerate(enc[:4]):
        if c != fs and c not in chars[:i]:
            chars[i] = c
    if len({*chars, fs}) != 5:
        return Delimiters(fs), problem
    return Delimiters(fs, chars[0], chars[1], chars[2], chars[3]), problem
