"""`lowBoundary()` / `highBoundary()` of decimals, dates, dateTimes and times (FHIRPath 3.0, experimental).

A value stands for every value its precision cannot tell apart: `1.0` is anything in
[0.95, 1.05); `1970-06` is 1970-06-01 .. 1970-06-30; a dateTime without a zone could be in any
zone from +14:00 to -12:00.
"""

from __future__ import annotations

import calendar
import re
from decimal import Decimal

_TIME = re.compile(r"^(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?$")
_ZONE = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def decimal_boundary(value: int | float, high: bool) -> float:
    """The low or high end of the interval `value`'s written precision stands for."""
    d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    places = max(-int(d.as_tuple().exponent), 0)
    half = Decimal(5) * Decimal(10) ** -(places + 1)
    return float(d + half if high else d - half)


def date_boundary(text: str, high: bool) -> str | None:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` filled out to a whole date; None if not a date."""
    parts = text.split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if high else 1)
    if len(parts) > 2:
        day = int(parts[2])
    else:
        day = calendar.monthrange(year, month)[1] if high else 1
    return f"{year:04d}-{month:02d}-{day:02d}"


def time_boundary(text: str, high: bool) -> str | None:
    """`HH[:MM[:SS[.fff]]]` filled out to milliseconds; None if not a time."""
    m = _TIME.match(text)
    if m is None:
        return None
    hh, mm, ss, frac = m.groups()
    fill = "59" if high else "00"
    ms = (frac + "000")[:3] if frac is not None else ("999" if high else "000")
    return f"{hh}:{mm or fill}:{ss or fill}.{ms}"


def datetime_boundary(text: str, high: bool) -> str | None:
    """A dateTime filled out to milliseconds with a zone (+14:00 low, -12:00 high when absent)."""
    date_part, _, time_part = text.partition("T")
    date = date_boundary(date_part, high)
    if date is None:
        return None
    zone_match = _ZONE.search(time_part)
    zone = zone_match.group(1) if zone_match else ("-12:00" if high else "+14:00")
    clock_text = time_part[: zone_match.start()] if zone_match else time_part
    clock = time_boundary(clock_text, high) if clock_text else ("23:59:59.999" if high else "00:00:00.000")
    if clock is None:
        return None
    return f"{date}T{clock}{zone}"
