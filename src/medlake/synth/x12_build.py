r"""Pure builders for X12 005010 text: separators, segments, ISA and the envelopes.

`Interchange` is a small state machine that returns the text of each segment and keeps the
control numbers and counts (SE01, GE01, IEA01) right, so an emitter can stream a file without
holding it in memory::

    >>> ic = Interchange(Separators(), sender=("ZZ", "MEDLAKE"), receiver=("ZZ", "PAYER01"),
    ...                  control_number=7, when=datetime(2024, 3, 1, 9, 30))
    >>> text = ic.header() + ic.begin_group("HC", "MEDLAKE", "PAYER01", "005010X222A1")
    >>> text += ic.begin_set("837", "005010X222A1") + ic.seg("BHT", "0019", "00", "1", "20240301", "0930", "CH")
    >>> text += ic.end_set() + ic.end_group() + ic.trailer()
    >>> print(text.replace("\n", "|"))  # doctest: +ELLIPSIS
    ISA*00*...*000000007*0*P*:~|GS*HC*MEDLAKE*PAYER01*20240301*0930*1*X*005010X222A1~|ST*837*0001*005010X222A1~|BHT*0019*00*1*20240301*0930*CH~|SE*3*0001~|GE*1*1~|IEA*1*000000007~|

X12 has no escape sequences: `element()` replaces separator characters in data with a space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Interchange", "Separators", "amount", "composite", "element", "segment"]

ISA_LENGTH = 106
"""ISA is fixed width: 106 characters including the segment terminator."""


@dataclass(frozen=True, slots=True)
class Separators:
    """Element, component (ISA16), repetition (ISA11) and segment terminator.

    `suffix` is written after every terminator (many senders add a newline); it is not data.
    """

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    suffix: str = "\n"

    def __post_init__(self) -> None:
        chars = (self.element, self.component, self.repetition, self.segment)
        if any(len(c) != 1 for c in chars) or len(set(chars)) != 4:
            raise ValueError(f"X12 separators must be four distinct single characters, got {chars!r}")


def element(value: object, s: Separators) -> str:
    """One simple element as text; separator characters in data become spaces."""
    text = "" if value is None else str(value)
    for ch in (s.element, s.component, s.repetition, s.segment, "\r", "\n"):
        if ch in text:
            text = text.replace(ch, " ")
    return text


def composite(*parts: object, s: Separators) -> str:
    """A composite element `a:b:c`, trailing empty components omitted."""
    items = [element(p, s) for p in parts]
    while items and items[-1] == "":
        items.pop()
    return s.component.join(items)


class Raw(str):
    """Element text already built (a composite, a repetition); passed through unchanged."""

    __slots__ = ()


def segment(seg_id: str, *elements: object, s: Separators) -> str:
    """`ID*e1*e2…~` plus the suffix; trailing empty elements omitted."""
    items = [e if isinstance(e, Raw) else element(e, s) for e in elements]
    while items and items[-1] == "":
        items.pop()
    body = s.element.join([seg_id, *items])
    return body + s.segment + s.suffix


def amount(value: Decimal | int | str) -> str:
    """A monetary R element: at most 2 decimals, no trailing zeros (`150`, `12.5`, `-3.25`)."""
    d = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fixed(value: str, width: int) -> str:
    if len(value) > width:
        raise ValueError(f"ISA value {value!r} is longer than its fixed width {width}")
    return value.ljust(width)


class Interchange:
    """One ISA…IEA interchange: builds each envelope segment and keeps the counts.

    Call `header()`, then for each group `begin_group()`, for each set `begin_set()`,
    `seg()` for the body, `end_set()`, then `end_group()`, and finally `trailer()`.
    """

    def __init__(
        self,
        s: Separators,
        *,
        sender: tuple[str, str],
        receiver: tuple[str, str],
        control_number: int,
        when: datetime,
        usage: str = "P",
    ) -> None:
        if not 0 < control_number < 1_000_000_000:
            raise ValueError(f"ISA13 control number must be 1..999999999, got {control_number}")
        self.s = s
        self.sender = sender
        self.receiver = receiver
        self.control_number = control_number
        self.when = when
        self.usage = usage
        self.groups = 0
        self._group_sets = 0
        self._group_open = False
        self._set_open = False
        self._set_segments = 0
        self._set_control = ""
        self.sets_total = 0

    # -- interchange ---------------------------------------------------------------------
    def header(self) -> str:
        """ISA, exactly 106 characters up to and including the terminator (+ suffix)."""
        s = self.s
        fields = [
            "ISA",
            "00",
            _fixed("", 10),
            "00",
            _fixed("", 10),
            _fixed(self.sender[0], 2),
            _fixed(self.sender[1], 15),
            _fixed(self.receiver[0], 2),
            _fixed(self.receiver[1], 15),
            self.when.strftime("%y%m%d"),
            self.when.strftime("%H%M"),
            s.repetition,
            "00501",
            f"{self.control_number:09d}",
            "0",
            self.usage,
            s.component,
        ]
        text = s.element.join(fields) + s.segment
        if len(text) != ISA_LENGTH:
            raise ValueError(f"ISA came out {len(text)} characters long, not {ISA_LENGTH}: {text!r}")
        return text + s.suffix

    def trailer(self) -> str:
        """IEA: number of groups and ISA13."""
        if self._group_open:
            raise ValueError("close the functional group with `end_group()` before `trailer()`")
        return segment("IEA", self.groups, f"{self.control_number:09d}", s=self.s)

    # -- functional group ----------------------------------------------------------------
    def begin_group(self, functional_id: str, app_sender: str, app_receiver: str, version: str) -> str:
        """GS; the group control number GS06 counts groups from 1 within the interchange."""
        if self._group_open:
            raise ValueError("a functional group is already open; call `end_group()` first")
        self.groups += 1
        self._group_sets = 0
        self._group_open = True
        return segment(
            "GS",
            functional_id,
            app_sender,
            app_receiver,
            self.when.strftime("%Y%m%d"),
            self.when.strftime("%H%M"),
            self.groups,
            "X",
            version,
            s=self.s,
        )

    def end_group(self) -> str:
        """GE: number of sets and GS06."""
        if self._set_open:
            raise ValueError("close the transaction set with `end_set()` before `end_group()`")
        self._group_open = False
        return segment("GE", self._group_sets, self.groups, s=self.s)

    # -- transaction set -----------------------------------------------------------------
    def begin_set(self, set_id: str, guide: str | None = None) -> str:
        """ST; ST02 numbers the sets 0001… within the group; ST03 is the guide version."""
        if not self._group_open or self._set_open:
            raise ValueError("`begin_set()` needs an open group and no open set")
        self._group_sets += 1
        self.sets_total += 1
        self._set_open = True
        self._set_segments = 1
        self._set_control = f"{self._group_sets:04d}"
        return segment("ST", set_id, self._set_control, guide, s=self.s)

    def seg(self, seg_id: str, *elements: object) -> str:
        """A body segment of the open set (counted for SE01)."""
        if not self._set_open:
            raise ValueError(f"segment `{seg_id}` outside a transaction set; call `begin_set()`")
        self._set_segments += 1
        return segment(seg_id, *elements, s=self.s)

    def end_set(self, *, miscount: int = 0) -> str:
        """SE: segments from ST to SE inclusive, and ST02. `miscount` injects a defect."""
        if not self._set_open:
            raise ValueError("`end_set()` without an open set")
        self._set_open = False
        return segment("SE", self._set_segments + 1 + miscount, self._set_control, s=self.s)

    def comp(self, *parts: object) -> Raw:
        """A composite element for `seg()`."""
        return Raw(composite(*parts, s=self.s))

    def reps(self, *values: str) -> Raw:
        """Repeated element values joined by the repetition separator (ISA11)."""
        return Raw(self.s.repetition.join(v for v in values if v))
