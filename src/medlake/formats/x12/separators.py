"""X12 separators, read from the ISA header that declares them (or guessed for a file without one).

The ISA is fixed width: 106 characters with its terminator. The element separator is the
character right after `ISA` (index 3), the repetition separator is ISA11 (index 82; `U` in
4010 means "none"), the component separator is ISA16 (index 104) and the segment terminator
follows it (index 105). Some senders do not pad the ISA; then the separators are read after
its 16th element separator instead, and the reader is told so.
"""

from __future__ import annotations

from dataclasses import dataclass

ISA_LENGTH = 106
"""Characters in a padded ISA, its terminator included."""

ISA_ELEMENTS = 16

_FIXED_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
"""Where the 16 element separators of a padded ISA stand (ISA01 … ISA16 widths 2, 10, 2,
10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)."""

_SEARCH_LIMIT = 320
"""How far an unpadded ISA is searched for its 16 element separators."""

FILL = " \t\r\n"
"""Characters that may stand between a terminator and the next segment (line breaks,
indentation): formatting, not data."""


@dataclass(frozen=True, slots=True)
class Separators:
    """The four delimiters of an interchange. `repetition` is `None` when there is none (4010)."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    @property
    def fill(self) -> str:
        """The formatting characters that are not separators here."""
        used = (self.element, self.component, self.repetition or "", self.segment)
        return "".join(c for c in FILL if c not in used)

    def to_json(self) -> dict[str, str | None]:
        return {
            "element": self.element,
            "component": self.component,
            "repetition": self.repetition,
            "segment": self.segment,
        }


def _bad_char(c: str) -> bool:
    return c.isalnum() or c == ""


def _nth(text: str, char: str, start: int, n: int, limit: int) -> list[int]:
    """The offsets of the first `n` occurrences of `char` in text[start:limit]."""
    found: list[int] = []
    k = start
    while len(found) < n:
        k = text.find(char, k, limit)
        if k < 0:
            break
        found.append(k)
        k += 1
    return found


def read_isa(text: str, pos: int) -> tuple[Separators | None, int, str | None]:
    """The separators the ISA at `text[pos]` declares.

    Returns (separators or `None` when they cannot be read, the length of the ISA segment
    without its terminator, a problem sentence or `None`).
    """
    e = text[pos + 3 : pos + 4]
    if _bad_char(e) or e in FILL:
        shown = repr(e) if e else "nothing"
        return None, 0, (
            f"the ISA element separator (the character after `ISA`) is {shown}; it must be a "
            "character that is neither a letter, a digit nor white space (`*` is usual)"
        )
    head = text[pos : pos + ISA_LENGTH]
    if len(head) == ISA_LENGTH and all(head[k] == e for k in _FIXED_SEPARATORS):
        comp, term, length, note = head[104], head[105], ISA_LENGTH - 1, None
    else:
        seps = _nth(text, e, pos + 3, ISA_ELEMENTS, min(len(text), pos + _SEARCH_LIMIT))
        if len(seps) < ISA_ELEMENTS or seps[-1] + 2 >= len(text):
            what = (
                f"it has {len(seps)} of its {ISA_ELEMENTS} elements"
                if len(seps) < ISA_ELEMENTS
                else "it ends before its terminator"
            )
            return None, 0, (
                f"the ISA is too short: {what}; an ISA has 16 elements, then its terminator "
                f"({ISA_LENGTH} characters in all), so the separators cannot be read and the "
                "interchange is skipped"
            )
        last = seps[-1]
        comp, term, length = text[last + 1], text[last + 2], last + 2 - pos
        note = (
            f"the ISA is not fixed width ({length + 1} characters instead of {ISA_LENGTH}); its "
            f"separators were read after its 16th element: component {comp!r}, segment "
            f"terminator {term!r}"
        )
    problem = _check(e, comp, term)
    if problem:
        return None, 0, problem
    elements = text[pos : pos + length].split(e)
    rep = _repetition(elements[11], elements[12], (e, comp, term))
    return Separators(e, comp, rep, term), length, note


def _check(e: str, comp: str, term: str) -> str | None:
    if _bad_char(comp) or comp in (e, " "):
        return (
            f"ISA16 (the component separator) is {comp!r}; it must differ from the element "
            f"separator {e!r} and be neither a letter, a digit nor a space (`:` is usual)"
        )
    if _bad_char(term) or term in (e, comp, " "):
        return (
            f"the segment terminator after ISA16 is {term!r}; it must differ from the other "
            "separators and be neither a letter, a digit nor a space (`~` is usual)"
        )
    return None


def _repetition(isa11: str, isa12: str, others: tuple[str, ...]) -> str | None:
    """ISA11 is the repetition separator from 00402 on; in 4010 it is the standards id `U`."""
    if len(isa11) == 1 and not isa11.isalnum() and isa11 not in others and isa11 not in FILL:
        return isa11 if isa12 >= "00402" or not isa12.isdigit() else None
    return None


def guess_headless(text: str, pos: int) -> tuple[Separators | None, str]:
    """Separators for a file that starts at a `GS` or `ST` segment without an ISA.

    The element separator follows the segment id; the terminator is the first character
    after the last element that is neither a letter, a digit nor a separator. The component
    separator cannot be known: `:` is assumed (and said).
    """
    sid = text[pos : pos + 2]
    e = text[pos + 2 : pos + 3]
    if _bad_char(e) or e in FILL:
        return None, f"`{sid}` is not followed by an element separator"
    n = 8 if sid == "GS" else 2  # GS has 8 elements; ST has 2 or 3
    seps = _nth(text, e, pos + 2, n, min(len(text), pos + 400))
    if len(seps) < n:
        return None, f"the `{sid}` segment is cut short: it has {len(seps)} of its {n} elements"
    k = seps[-1] + 1
    while k < len(text) and (text[k].isalnum() or text[k] == e or (sid == "GS" and text[k] in ". -")):
        k += 1
    term = text[k : k + 1]
    if _bad_char(term) or term == " ":
        return None, f"no segment terminator could be found after the `{sid}` segment"
    comp = ":" if term != ":" and e != ":" else ">"
    return Separators(e, comp, None, term), (
        f"no ISA interchange header: the file starts with `{sid}`; its separators were read from "
        f"that segment (element {e!r}, segment terminator {term!r}), the component separator "
        f"{comp!r} is assumed and elements are not split into repetitions"
    )
