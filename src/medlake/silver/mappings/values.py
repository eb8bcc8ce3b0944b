"""Value conversion for mapping specs: source text → FHIR JSON primitives.

Pure functions over `str`. A value that does not convert raises `ValueProblem` with a
message that quotes the text (it goes to quarantine, never to logs). Date and time parsing is
cached per distinct string, because feeds repeat the same timestamps a lot.

Time rules (see docs/mapping-specs.md):

- `date` → `YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when the source gives only those. A source
  value with a time keeps the date as written (no time-zone conversion).
- `datetime` → a UTC instant `YYYY-MM-DDThh:mm:ss[.fff]Z` when the source has a time; a
  partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) is kept as it is, since it has no zone.
- `instant` → like `datetime` but a time is required.
- A time without an offset is local time in the source's zone, converted by
  `medlake.silver.mappings.local_time.to_utc`: a local time in a spring-forward gap does not
  exist and is read with the offset before the change, which moves it forward by the length of
  the gap (02:30 → 03:30); a local time that occurs twice (fall-back) is read as the first
  occurrence (`fold=0`, the daylight-saving offset). `convert_datetime` puts a
  time-adjustment extension beside the original text of such a value, and every conversion
  is reported to the open `collect_time_adjustments()` (the cache sits below the report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from medlake.silver.mappings.local_time import Adjustment, report, to_utc, utc_text

ORIGINAL_TEXT_URL = "https://medlake.dev/fhir/StructureDefinition/original-text"

VALUE_TYPES: tuple[str, ...] = (
    "string",
    "code",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "instant",
)
TIME_TYPES = frozenset({"date", "datetime", "instant"})

ISO = "iso"
"""In a `format` list, the ISO 8601 forms (YYYY, YYYY-MM, YYYY-MM-DD[Thh:mm[:ss[.f]]][Z|±hh:mm])."""

DEFAULT_FORMATS: tuple[str, ...] = (
    ISO,
    "%Y%m%d",
    "%Y%m%d%H%M%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)

_TRUE = frozenset({"true", "1", "y", "yes"})
_FALSE = frozenset({"false", "0", "n", "no"})
_INT_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)


class ValueProblem(ValueError):
    """A source value could not be converted; `message` quotes the value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class WithOriginal:
    """A converted value whose source text differs: written with a `_<element>` sibling."""

    value: Any
    shadow: Any
    """The JSON of the `_<element>` sibling: `{"extension": [...]}`, or a list aligned with a
    list element (None where an item has no extension)."""


def original_text(text: str) -> dict[str, Any]:
    """The FHIR primitive extension that keeps the source text of a converted value."""
    return {"extension": [{"url": ORIGINAL_TEXT_URL, "valueString": text}]}


def attach_shadows(body: dict[str, Any], shadows: dict[str, dict[str, Any]]) -> None:
    """Put `_<key>` beside each string of `body`, and of the objects inside it, that `shadows`
    holds (converted value → its `_<element>` JSON): how the HL7 mappings keep the original
    text of the times they had to adjust, without threading it through every mapping."""
    for key, value in list(body.items()):
        if type(value) is str:
            shadow = shadows.get(value)
            if shadow is not None and not key.startswith("_"):
                body[f"_{key}"] = shadow
        elif type(value) is dict:
            attach_shadows(value, shadows)
        elif type(value) is list:
            for item in value:
                if type(item) is dict:
                    attach_shadows(item, shadows)


def check_timezone(name: str) -> tzinfo:
    """The zone named `name`, or ValueProblem naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueProblem(f"`{name}` is not an IANA time zone (e.g. `America/Chicago`)") from exc


def to_integer(text: str) -> int:
    """`text` as an integer; `12.0` is accepted as 12."""
    s = text.strip()
    if _INT_RE.fullmatch(s):
        return int(s)
    if _DECIMAL_RE.fullmatch(s):
        f = float(s)
        if f.is_integer() and abs(f) < 2**53:
            return int(f)
    raise ValueProblem(f"`{text}` is not an integer")


def to_decimal(text: str) -> int | float:
    """`text` as a JSON number (integer-looking text stays an int: `174`, not `174.0`)."""
    s = text.strip()
    if _INT_RE.fullmatch(s):
        return int(s)
    if _DECIMAL_RE.fullmatch(s):
        return float(s)
    raise ValueProblem(f"`{text}` is not a decimal")


def to_boolean(text: str) -> bool:
    """`text` as a boolean: true/false, 1/0, y/n, yes/no (any case)."""
    s = text.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(f"`{text}` is not a boolean (use true/false, 1/0, y/n or yes/no)")


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A parsed date/time: fields present up to `precision` (`year`, `month`, `day`, `time`)."""

    precision: str
    value: datetime
    aware: bool
    fraction: str  # fractional-second digits as written ("" when none)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_iso(text: str) -> _Parsed | None:
    m = _ISO_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    try:
        if hour is not None:
            value = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                int((fraction or "0")[:6].ljust(6, "0")),
                tzinfo=_offset(offset) if offset else None,
            )  # fmt: skip
            return _Parsed("time", value, offset is not None, (fraction or "")[:6])
        value = datetime(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    precision = "day" if day else "month" if month else "year"
    return _Parsed(precision, value, False, "")


def _parse_pattern(text: str, pattern: str) -> _Parsed | None:
    try:
        value = datetime.strptime(text, pattern)
    except ValueError:
        return None
    if "%H" in pattern or "%I" in pattern:
        precision = "time"
    elif "%d" in pattern or "%j" in pattern:
        precision = "day"
    elif "%m" in pattern or "%b" in pattern or "%B" in pattern:
        precision = "month"
    else:
        precision = "year"
    fraction = f"{value.microsecond:06d}".rstrip("0") if "%f" in pattern else ""
    return _Parsed(precision, value, value.tzinfo is not None, fraction)


def _parse(text: str, formats: tuple[str, ...]) -> _Parsed | None:
    for pattern in formats:
        parsed = _parse_iso(text) if pattern == ISO else _parse_pattern(text, pattern)
        if parsed is not None:
            return parsed
    return None


def _tried(formats: tuple[str, ...]) -> str:
    return ", ".join("ISO 8601" if f == ISO else f for f in formats)


def _date_text(p: _Parsed) -> str:
    v = p.value
    if p.precision == "year":
        return f"{v.year:04d}"
    if p.precision == "month":
        return f"{v.year:04d}-{v.month:02d}"
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


@lru_cache(maxsize=65536)
def parse_date(text: str, formats: tuple[str, ...] = DEFAULT_FORMATS) -> str:
    """`text` as a FHIR date (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`)."""
    parsed = _parse(text.strip(), formats)
    if parsed is None:
        raise ValueProblem(f"`{text}` is not a date (tried {_tried(formats)})")
    return _date_text(parsed)


@lru_cache(maxsize=65536)
def _datetime(text: str, zone: str, formats: tuple[str, ...], instant: bool) -> tuple[str, Adjustment | None]:
    kind = "an instant" if instant else "a date-time"
    parsed = _parse(text.strip(), formats)
    if parsed is None:
        raise ValueProblem(f"`{text}` is not {kind} (tried {_tried(formats)})")
    if parsed.precision != "time":
        if instant:
            raise ValueProblem(f"`{text}` is not an instant (it has no time of day)")
        return _date_text(parsed), None
    if parsed.aware:
        return utc_text(parsed.value, parsed.fraction), None
    local = to_utc(parsed.value, zone)
    return utc_text(local.utc, parsed.fraction), local.adjustment


def parse_datetime(
    text: str, zone: str, formats: tuple[str, ...] = DEFAULT_FORMATS, instant: bool = False
) -> str:
    """`text` as a FHIR dateTime (UTC `…Z` when it has a time) or, with `instant`, an instant.

    A time without an offset is local time in `zone` (see the module docstring for DST); an
    adjusted one is reported to the open time-adjustment collector.
    """
    value, adjustment = _datetime(text, zone, formats, instant)
    report(adjustment)
    return value


def convert_datetime(
    text: str, zone: str, formats: tuple[str, ...] = DEFAULT_FORMATS, instant: bool = False
) -> str | WithOriginal:
    """`parse_datetime`, with the source text beside the value when it differs, and a
    time-adjustment extension beside it when the local time was ambiguous or nonexistent."""
    value, adjustment = _datetime(text, zone, formats, instant)
    if adjustment is None:
        return value if value == text else WithOriginal(value, original_text(text))
    report(adjustment)
    shadow = original_text(text)
    shadow["extension"].append(adjustment.extension())
    return WithOriginal(value, shadow)
