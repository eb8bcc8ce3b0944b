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

    def __reduce__(self) -> tuple[type[Delimiters], tuple[str, ...]]:
        # the compiled readers stay behind: they are rebuilt on first use
        return Delimiters, (self.field, self.component, self.repetition, self.escape, self.subcomponent, self.truncation)

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
    sid = header[:3]
    if len(header) < 4:
        return DEFAULT, f"`{sid}` ends before its field separator ({sid}-1); the default delimiters `|^~\\&` are assumed"
    fs = header[3]
    if fs.isalnum() or fs in "\r\n":
        return DEFAULT, (
            f"`{sid}-1` (field separator) `{fs}` is a letter or digit, which is not allowed; "
            "the default delimiters `|^~\\&` are assumed"
        )
    end = header.find(fs, 4)
    enc = header[4:] if end < 0 else header[4:end]
    if len(enc) in (4, 5) and len(set(enc + fs)) == len(enc) + 1:
        return _declared(fs, enc), None
    what = f"`{sid}-2` (encoding characters)"
    if not enc:
        problem = f"{what} is empty; the defaults `^~\\&` are assumed"
    elif len(enc) < 4:
        problem = (
            f"{what} `{enc}` has {len(enc)} character{'s' if len(enc) > 1 else ''} where 4 or 5 are needed "
            "(component, repetition, escape, sub-component[, truncation]); the defaults fill in the missing ones"
        )
    elif len(enc) > 5:
        problem = f"{what} `{enc}` has {len(enc)} characters where 4 or 5 are allowed; the first 4 are used"
    else:
        seen, dup = {fs}, ""
        for c in enc:
            if c in seen:
                dup = c
                break
            seen.add(c)
        problem = (
            f"{what} `{enc}` repeats `{dup}`: each must differ from the others and from the field separator "
            f"`{fs}`; the defaults replace the repeated ones"
        )
    chars = list(DEFAULT_ENCODING)
    for i, c in enumerate(enc[:4]):
        if c != fs and c not in chars[:i]:
            chars[i] = c
    if len({*chars, fs}) != 5:
        return Delimiters(fs), problem
    return Delimiters(fs, chars[0], chars[1], chars[2], chars[3]), problem
