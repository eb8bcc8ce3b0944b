r"""Pure builders for HL7 v2 (ER7) text: escaping, fields, segments, MSH, timestamps.

Values handed to the builders are plain text; the builders escape them. Text that is already
encoded (a component list, a repetition list) is wrapped in `Encoded`, so it is never escaped
twice::

    >>> segment("PID", "1", None, comp("M123", None, None, "HOSP", "MR"), None, comp("Smith", "A^B"))
    'PID|1||M123^^^HOSP^MR||Smith^A\\S\\B'

Nothing here does I/O; the emitters in `emit_hl7.py` write the strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "STANDARD",
    "ControlIds",
    "Delimiters",
    "Encoded",
    "comp",
    "escape",
    "hl7_date",
    "hl7_ts",
    "message",
    "msh",
    "rep",
    "segment",
    "sub",
]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The five ER7 delimiters as MSH-1 and MSH-2 declare them."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def encoding_characters(self) -> str:
        """MSH-2: component, repetition, escape, sub-component."""
        return self.component + self.repetition + self.escape + self.subcomponent


STANDARD = Delimiters()
"""`|^~\\&`, what nearly every sender uses."""

SEGMENT_TERMINATOR = "\r"


class Encoded(str):
    """Text that is already ER7-encoded (escaped and joined); builders pass it through."""

    __slots__ = ()


Value = str | None
"""A leaf value: plain text to escape, or None for empty."""

Part = str | Encoded | None


def escape(text: str, d: Delimiters = STANDARD) -> str:
    r"""Escape one leaf value: `\F\ \S\ \T\ \R\ \E\`, and CR/LF as `\X0D\`/`\X0A\`.

    The escape character is replaced first so the sequences added later are not re-escaped.
    """
    e = d.escape
    if not any(c in text for c in (e, d.field, d.component, d.subcomponent, d.repetition, "\r", "\n")):
        return text  # the common case: nothing to do, no allocation
    out: list[str] = []
    table = {
        e: f"{e}E{e}",
        d.field: f"{e}F{e}",
        d.component: f"{e}S{e}",
        d.subcomponent: f"{e}T{e}",
        d.repetition: f"{e}R{e}",
        "\r": f"{e}X0D{e}",
        "\n": f"{e}X0A{e}",
    }
    for ch in text:
        out.append(table.get(ch, ch))
    return "".join(out)


def _leaf(value: Part, d: Delimiters) -> str:
    if value is None:
        return ""
    if isinstance(value, Encoded):
        return str(value)
    return escape(value, d)


def _join_trimmed(parts: Iterable[str], sep: str) -> str:
    items = list(parts)
    while items and items[-1] == "":
        items.pop()  # trailing empty fields/components may be omitted (ER7 rule)
    return sep.join(items)


def sub(*parts: Value, d: Delimiters = STANDARD) -> Encoded:
    """Sub-components joined by `&`."""
    return Encoded(_join_trimmed((_leaf(p, d) for p in parts), d.subcomponent))


def comp(*parts: Part, d: Delimiters = STANDARD) -> Encoded:
    """Components joined by `^` (a part may be an `Encoded` sub-component list)."""
    return Encoded(_join_trimmed((_leaf(p, d) for p in parts), d.component))


def rep(*values: Part, d: Delimiters = STANDARD) -> Encoded:
    """Repetitions of one field joined by `~`; empty repetitions are dropped."""
    return Encoded(d.repetition.join(v for v in (_leaf(p, d) for p in values) if v))


def segment(name: str, *fields: Part, d: Delimiters = STANDARD) -> str:
    """One segment without terminator: `NAME|f1|f2…`, trailing empty fields omitted.

    `fields[0]` is field 1 (`PID-1`). Not for MSH, whose numbering is shifted: use `msh()`.
    """
    if name == "MSH":
        raise ValueError("`MSH` numbers its fields from the separator; build it with `msh()`")
    body = _join_trimmed((_leaf(f, d) for f in fields), d.field)
    return f"{name}{d.field}{body}" if body else name


def msh(
    *,
    sending_app: Part,
    sending_facility: Part,
    receiving_app: Part,
    receiving_facility: Part,
    timestamp: str,
    message_type: tuple[str, str, str],
    control_id: str,
    version: str,
    processing_id: str = "P",
    charset: str | None = None,
    d: Delimiters = STANDARD,
) -> str:
    """MSH with MSH-1/MSH-2 from `d`; `message_type` is (code, trigger, structure), MSH-9."""
    fields: list[Part] = [
        sending_app,  # MSH-3
        sending_facility,  # MSH-4
        receiving_app,  # MSH-5
        receiving_facility,  # MSH-6
        Encoded(timestamp),  # MSH-7
        None,  # MSH-8 security
        comp(*message_type, d=d),  # MSH-9
        control_id,  # MSH-10
        processing_id,  # MSH-11
        version,  # MSH-12
        None,  # MSH-13 sequence number
        None,  # MSH-14 continuation pointer
        "AL",  # MSH-15 accept ack type
        "NE",  # MSH-16 application ack type
        None,  # MSH-17 country
        charset,  # MSH-18
    ]
    body = _join_trimmed((_leaf(f, d) for f in fields), d.field)
    return f"MSH{d.field}{d.encoding_characters}{d.field}{body}"


def message(segments: Iterable[str], terminator: str = SEGMENT_TERMINATOR) -> str:
    """Segments joined and each terminated by `terminator` (`\\r` by the standard)."""
    return "".join(s + terminator for s in segments)


def hl7_ts(when: datetime, *, offset: bool = False, seconds: bool = True) -> str:
    """DTM `YYYYMMDDHHMM[SS][+/-ZZZZ]` of `when` as given (convert to local time first).

    With `offset=True` the UTC offset of an aware `when` is appended.
    """
    text = when.strftime("%Y%m%d%H%M%S" if seconds else "%Y%m%d%H%M")
    if offset:
        if when.utcoffset() is None:
            raise ValueError("`offset=True` needs an aware datetime; attach a tzinfo first")
        text += when.strftime("%z")
    return text


def hl7_date(day: date) -> str:
    """DT `YYYYMMDD`."""
    return day.strftime("%Y%m%d")


class ControlIds:
    """MSH-10 message control ids, unique per sending application: `<prefix><seq>`."""

    def __init__(self, prefix: str, width: int = 9) -> None:
        self.prefix = prefix
        self.width = width
        self.issued = 0

    def next(self) -> str:
        """The next id, e.g. `LAB000000017`."""
        self.issued += 1
        return f"{self.prefix}{self.issued:0{self.width}d}"
