"""Local wall-clock time in a zone → a UTC instant, classified: ok, ambiguous or nonexistent.

Every mapping engine (delimited specs, HL7 v2, X12) converts times without an offset here, so
all of them follow the same rules (the zone's rules come from the IANA database that
`zoneinfo` reads):

- **ok** — the local time occurs exactly once in the zone: converted with its offset.
- **ambiguous** — the clocks fell back and the local time occurred twice (01:30 on the first
  Sunday of November in `America/New_York`): read as the *first* occurrence, with the offset
  before the change (`fold=0`, the daylight-saving offset).
- **nonexistent** — the clocks sprang forward over it (02:30 on the second Sunday of March in
  `America/New_York`): read with the offset before the change, which moves it forward by the
  length of the gap (02:30 → 03:30 EDT, 60 minutes; 30 minutes in `Australia/Lord_Howe`).

A time that carries its own offset (`Z`, `-05:00`, HL7 `-0500`) never comes here: the zone is
not used for it.

The conversion is cached (pure); *reporting* is not: callers call `report(...)` for every value
they convert, and the silver stage opens `collect_time_adjustments()` around each mapping call
to count the adjustments per (kind, zone) — see `medlake.silver.time_report`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

TIME_ADJUSTMENT_URL = "https://medlake.dev/fhir/StructureDefinition/time-adjustment"
"""The extension (beside the original-text one) on an element whose local time was adjusted."""

OK, AMBIGUOUS, NONEXISTENT = "ok", "ambiguous", "nonexistent"
RESOLUTIONS = {AMBIGUOUS: "first-occurrence", NONEXISTENT: "shifted-forward"}
"""How each kind of adjustment is resolved (the `resolution` of the extension)."""

_events: ContextVar[Counter[tuple[str, str]] | None] = ContextVar("medlake_time_adjustments", default=None)


def offset_text(delta: timedelta | None) -> str:
    """A UTC offset as `±hh:mm` (`-04:00`, `+10:30`)."""
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """What was done to a local time that was ambiguous or nonexistent in its zone."""

    kind: str
    """`ambiguous` or `nonexistent`."""
    zone: str
    offset: str
    """The UTC offset the local time was read with: the one before the change (`-04:00` for
    an ambiguous New York time, `-05:00` for a nonexistent one)."""
    shift_minutes: int
    """How far a nonexistent time was moved forward (0 for an ambiguous one)."""

    @property
    def resolution(self) -> str:
        return RESOLUTIONS[self.kind]

    def extension(self) -> dict[str, Any]:
        """The FHIR extension naming this adjustment (a fresh dict each call)."""
        parts: list[dict[str, Any]] = [
            {"url": "kind", "valueCode": self.kind},
            {"url": "resolution", "valueCode": self.resolution},
            {"url": "zone", "valueString": self.zone},
            {"url": "offset", "valueString": self.offset},
        ]
        if self.shift_minutes:
            parts.append({"url": "shiftMinutes", "valueInteger": self.shift_minutes})
        return {"url": TIME_ADJUSTMENT_URL, "extension": parts}


@dataclass(frozen=True, slots=True)
class LocalInstant:
    utc: datetime
    """Aware, in UTC."""
    adjustment: Adjustment | None
    """None when the local time was ok."""

    @property
    def kind(self) -> str:
        return self.adjustment.kind if self.adjustment else OK


@lru_cache(maxsize=65536)
def to_utc(wall: datetime, zone: str) -> LocalInstant:
    """The naive local time `wall` in IANA zone `zone` as UTC, classified (see module doc).

    Raises `zoneinfo.ZoneInfoNotFoundError` for an unknown zone (config validates zones first).
    """
    tz = ZoneInfo(zone)
    first = wall.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(UTC)
    before, after = first.utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    if before == after:
        return LocalInstant(utc, None)
    back = utc.astimezone(tz).replace(tzinfo=None)
    if back == wall:
        return LocalInstant(utc, Adjustment(AMBIGUOUS, zone, offset_text(before), 0))
    shift = int((back - wall).total_seconds() // 60)
    return LocalInstant(utc, Adjustment(NONEXISTENT, zone, offset_text(before), shift))


def utc_text(utc: datetime, fraction: str = "") -> str:
    """An aware datetime as a FHIR instant `YYYY-MM-DDThh:mm:ss[.fff]Z` (fraction as written,
    trailing zeros dropped)."""
    fraction = fraction.rstrip("0")
    return utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def report(adjustment: Adjustment | None) -> None:
    """Count one converted value's adjustment in the open collector (no-op when none is open
    or the time was ok). Call it for every value, outside any cache."""
    if adjustment is None:
        return
    counter = _events.get()
    if counter is not None:
        counter[(adjustment.kind, adjustment.zone)] += 1


@contextmanager
def collect_time_adjustments() -> Iterator[Counter[tuple[str, str]]]:
    """Count the adjustments `report` sees inside the block, per (kind, zone)."""
    counter: Counter[tuple[str, str]] = Counter()
    token = _events.set(counter)
    try:
        yield counter
    finally:
        _events.reset(token)
