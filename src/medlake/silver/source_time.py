"""Valid time of bronze records: when the source says what a record states became true.

The silver store orders versions by it (an older message that arrives after a newer one is a
late arrival, kept in history but not made current). Per format:

| format    | valid time                                                     | fallback          |
|-----------|----------------------------------------------------------------|-------------------|
| HL7 v2    | the message time, MSH-7 (no offset: local time in the source's zone) | landing time |
| X12       | the set's BHT-04/05, else (835) its DTM*405 production date, else GS-04/05 | landing time |
| FHIR      | the resource's `meta.lastUpdated`                              | landing time      |
| delimited | the object's landing time                                      | —                 |

Times are microseconds since the Unix epoch, UTC (what `SilverRecord.source_time_us` holds).
A value that does not parse falls back silently: valid time orders versions, it never rejects
a record (the mappings report bad times where they map them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record_times(table: pa.Table, zone: str) -> list[int | None]:
    """The valid time of each row of a bronze table (HL7, X12 or any other kind)."""
    landed = _landed(table)
    names = table.column_names
    if "message_time" in names:  # HL7 v2 bronze
        times = table.column("message_time").to_pylist()
        return [(_hl7(t, zone) if t else None) or at for t, at in zip(times, landed, strict=True)]
    if "gs" in names and "raw" in names:  # X12 bronze
        gss, raws = table.column("gs").to_pylist(), table.column("raw").to_pylist()
        return [x12_time(gs, raw, zone) or at for gs, raw, at in zip(gss, raws, landed, strict=True)]
    return landed


def fhir_time(resource: dict[str, Any], landed: int | None) -> int | None:
    """A FHIR resource's `meta.lastUpdated`, else `landed`."""
    meta = resource.get("meta")
    text = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return (_iso(text) if isinstance(text, str) else None) or landed


def x12_time(gs: str | None, raw: str | None, zone: str) -> int | None:
    """The transaction set's own date: BHT-04/05 (837, 270, 276, 834…), else the 835's
    production date DTM*405, else its group's GS-04/05. A date without a time is its midnight
    in `zone`."""
    head = (raw or "")[:600]  # these segments open the set
    sep = head[2:3]
    for elements, at in ((_segment(head, f"BHT{sep}", sep), 4), (_segment(head, f"DTM{sep}405{sep}", sep), 2), (_segment(gs or "", "GS", (gs or "   ")[2]), 4)):
        date = elements[at] if len(elements) > at else ""
        clock = elements[at + 1] if len(elements) > at + 1 and elements[at + 1].isdigit() else ""
        found = _hl7(date + (clock[:6] or "0000"), zone) if len(date) == 8 and date.isdigit() else None
        if found is not None:
            return found
    return None


def _segment(text: str, start: str, sep: str) -> list[str]:
    """The elements of the first segment of `text` that begins with `start`, or `[]`."""
    if not sep or not start:
        return []
    at = text.find(start)
    if at < 0:
        return []
    ends = [i for i in (text.find("~", at), text.find("\n", at)) if i >= 0]
    return text[at : min(ends, default=len(text))].split(sep)


def _landed(table: pa.Table) -> list[int | None]:
    if "_landed_at" not in table.column_names:
        return [None] * table.num_rows
    values: list[int | None] = table.column("_landed_at").cast(pa.int64()).to_pylist()
    return values


@lru_cache(maxsize=65536)
def _hl7(text: str, zone: str) -> int | None:
    """An HL7 TS with a time as microseconds UTC (a date alone is not an instant: None)."""
    from medlake.silver.mappings.hl7v2_common import Hl7ValueError, hl7_datetime

    try:
        value = hl7_datetime(text, zone)
    except (Hl7ValueError, ValueError):
        return None
    return _iso(value) if "T" in value else None


@lru_cache(maxsize=65536)
def _iso(text: str) -> int | None:
    """An ISO 8601 instant with a zone (`…Z` or `±hh:mm`) as microseconds UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return (value - _EPOCH) // timedelta(microseconds=1)
