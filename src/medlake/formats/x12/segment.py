"""One X12 segment as a view over its split elements, and element references as guides write them.

`CLM02` is element 2 of CLM; `CLM05-1` (or `CLM05-01`) is component 1 of that composite.
Elements are numbered from 1 (`elements[0]` is the segment id); components from 1. X12 has
no escape character: values are returned as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from medlake.errors import ParseError
from medlake.formats.x12.separators import Separators

_REF = re.compile(r"^(?P<seg>[A-Z][A-Z0-9]{1,2})(?P<el>\d{2})(?:[-.](?P<comp>\d{1,2}))?$")


class ElementRef(NamedTuple):
    segment: str
    element: int
    component: int | None

    def __str__(self) -> str:
        text = f"{self.segment}{self.element:02d}"
        return text if self.component is None else f"{text}-{self.component}"


@lru_cache(maxsize=4096)
def parse_ref(text: str) -> ElementRef:
    """`CLM05-1` → ElementRef("CLM", 5, 1)."""
    m = _REF.match(text.strip())
    if m is None or int(m["el"]) == 0 or (m["comp"] is not None and int(m["comp"]) == 0):
        raise ParseError(
            f"`{text}` is not an X12 element reference; write it as the guides do: `CLM02` "
            "(segment id, two-digit element number) or `CLM05-1` (… and a component number "
            "from 1)",
            position=text,
        )
    return ElementRef(m["seg"], int(m["el"]), int(m["comp"]) if m["comp"] else None)


class Segment:
    """A segment's elements (`elements[0]` is its id) with the separators that split them."""

    __slots__ = ("elements", "index", "separators")

    def __init__(self, elements: list[str], index: int, separators: Separators) -> None:
        self.elements = elements
        self.index = index
        """0-based position in its transaction set (ST is 0)."""
        self.separators = separators

    @property
    def id(self) -> str:
        return self.elements[0]

    @property
    def raw(self) -> str:
        """The segment's text, without its terminator."""
        return self.separators.element.join(self.elements)

    def __len__(self) -> int:
        """The number of elements present (trailing empty ones may be left out by senders)."""
        return len(self.elements) - 1

    def element(self, n: int) -> str:
        """The raw text of element `n` (from 1); "" when absent."""
        e = self.elements
        return e[n] if 0 < n < len(e) else ""

    def repetitions(self, n: int) -> list[str]:
        """The repetitions of element `n` (one when it does not repeat; none when empty)."""
        raw = self.element(n)
        if not raw:
            return []
        rep = self.separators.repetition
        return raw.split(rep) if rep and rep in raw else [raw]

    def components(self, n: int, repetition: int = 1) -> list[str]:
        """The components of element `n` (of its `repetition`-th occurrence)."""
        reps = self.repetitions(n)
        if not 0 < repetition <= len(reps):
            return []
        return reps[repetition - 1].split(self.separators.component)

    def component(self, n: int, k: int, repetition: int = 1) -> str:
        """Component `k` (from 1) of element `n`; "" when absent."""
        comps = self.components(n, repetition)
        return comps[k - 1] if 0 < k <= len(comps) else ""

    def get(self, n: int, component: int | None = None, repetition: int = 1) -> str | None:
        """Element `n` (or one of its components) as a value: `None` when empty or absent."""
        if component is None and repetition == 1:
            value = self.element(n)
            rep = self.separators.repetition
            if rep and rep in value:
                value = value.split(rep, 1)[0]
        elif component is None:
            reps = self.repetitions(n)
            value = reps[repetition - 1] if 0 < repetition <= len(reps) else ""
        else:
            value = self.component(n, component, repetition)
        return value or None

    def value(self, ref: str) -> str | None:
        """The value at a reference such as `CLM02` or `CLM05-1` (the id must be this one's)."""
        r = parse_ref(ref)
        if r.segment != self.id:
            return None
        return self.get(r.element, r.component)

    def __repr__(self) -> str:
        return f"<Segment {self.index} {self.id}>"  # ids only: values may be PHI
