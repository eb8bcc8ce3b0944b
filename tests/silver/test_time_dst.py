"""Local times → UTC across DST transitions, the same through every mapping engine, reported.

Every expectation below was worked out by hand from the zones' published rules (2024):

- America/New_York: EST −05:00; clocks go 02:00 → 03:00 on 10 March (EDT −04:00) and
  02:00 → 01:00 on 3 November. 02:30 on 10 March does not exist (read with −05:00 → 07:30Z,
  which is 03:30 EDT); 01:30 on 3 November happens twice (first, EDT: 05:30Z; second, EST:
  06:30Z).
- Europe/London: GMT +00:00 / BST +01:00; 01:00 → 02:00 on 31 March, 02:00 → 01:00 on
  27 October.
- Australia/Lord_Howe: +10:30 / +11:00 (a 30-minute shift); 02:00 → 02:30 on 6 October,
  02:00 → 01:30 on 7 April.
- Asia/Tokyo (+09:00) and America/Phoenix (−07:00) have no DST.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from medlake.config import load_config
from medlake.formats.hl7v2 import parse_hl7
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.silver.mappings.hl7v2 import map_message
from medlake.silver.mappings.hl7v2_common import Hl7Context, hl7_datetime
from medlake.silver.mappings.local_time import (
    TIME_ADJUSTMENT_URL,
    Adjustment,
    collect_time_adjustments,
    to_utc,
    utc_text,
)
from medlake.silver.mappings.values import ORIGINAL_TEXT_URL, convert_datetime, parse_datetime
from medlake.silver.mappings.x12_common import X12ValueError, x12_period

NY, LONDON, LORD_HOWE = "America/New_York", "Europe/London", "Australia/Lord_Howe"

# zone, local wall time, UTC, kind, offset read with, minutes shifted
CASES = [
    (NY, "2024-03-10 01:59:59", "2024-03-10T06:59:59Z", "ok", None, 0),
    (NY, "2024-03-10 02:00:00", "2024-03-10T07:00:00Z", "nonexistent", "-05:00", 60),
    (NY, "2024-03-10 02:30:00", "2024-03-10T07:30:00Z", "nonexistent", "-05:00", 60),
    (NY, "2024-03-10 02:59:59", "2024-03-10T07:59:59Z", "nonexistent", "-05:00", 60),
    (NY, "2024-03-10 03:00:00", "2024-03-10T07:00:00Z", "ok", None, 0),
    (NY, "2024-03-10 03:30:00", "2024-03-10T07:30:00Z", "ok", None, 0),
    (NY, "2024-11-03 00:59:59", "2024-11-03T04:59:59Z", "ok", None, 0),
    (NY, "2024-11-03 01:00:00", "2024-11-03T05:00:00Z", "ambiguous", "-04:00", 0),
    (NY, "2024-11-03 01:30:00", "2024-11-03T05:30:00Z", "ambiguous", "-04:00", 0),
    (NY, "2024-11-03 01:59:59", "2024-11-03T05:59:59Z", "ambiguous", "-04:00", 0),
    (NY, "2024-11-03 02:00:00", "2024-11-03T07:00:00Z", "ok", None, 0),
    (LONDON, "2024-03-31 00:59:59", "2024-03-31T00:59:59Z", "ok", None, 0),
    (LONDON, "2024-03-31 01:30:00", "2024-03-31T01:30:00Z", "nonexistent", "+00:00", 60),
    (LONDON, "2024-03-31 02:00:00", "2024-03-31T01:00:00Z", "ok", None, 0),
    (LONDON, "2024-10-27 01:30:00", "2024-10-27T00:30:00Z", "ambiguous", "+01:00", 0),
    (LONDON, "2024-10-27 02:00:00", "2024-10-27T02:00:00Z", "ok", None, 0),
    (LORD_HOWE, "2024-10-06 01:59:00", "2024-10-05T15:29:00Z", "ok", None, 0),
    (LORD_HOWE, "2024-10-06 02:15:00", "2024-10-05T15:45:00Z", "nonexistent", "+10:30", 30),
    (LORD_HOWE, "2024-10-06 02:30:00", "2024-10-05T15:30:00Z", "ok", None, 0),
    (LORD_HOWE, "2024-04-07 01:45:00", "2024-04-06T14:45:00Z", "ambiguous", "+11:00", 0),
    (LORD_HOWE, "2024-04-07 02:00:00", "2024-04-06T15:30:00Z", "ok", None, 0),
    ("Asia/Tokyo", "2024-03-10 02:30:00", "2024-03-09T17:30:00Z", "ok", None, 0),
    ("America/Phoenix", "2024-03-10 02:30:00", "2024-03-10T09:30:00Z", "ok", None, 0),
    ("America/Phoenix", "2024-11-03 01:30:00", "2024-11-03T08:30:00Z", "ok", None, 0),
    ("UTC", "2024-03-10 02:30:00", "2024-03-10T02:30:00Z", "ok", None, 0),
]
IDS = [f"{z}-{w}" for z, w, *_ in CASES]


def adjustment(zone: str, kind: str, offset: str | None, shift: int) -> Adjustment | None:
    return None if kind == "ok" else Adjustment(kind, zone, offset or "", shift)


@pytest.mark.parametrize(("zone", "wall", "utc", "kind", "offset", "shift"), CASES, ids=IDS)
def test_to_utc(zone: str, wall: str, utc: str, kind: str, offset: str | None, shift: int) -> None:
    got = to_utc(datetime.fromisoformat(wall), zone)
    assert utc_text(got.utc) == utc
    assert got.kind == kind
    assert got.adjustment == adjustment(zone, kind, offset, shift)


def expected_shadow(text: str, zone: str, kind: str, offset: str | None, shift: int) -> dict[str, Any]:
    ext: list[dict[str, Any]] = [{"url": ORIGINAL_TEXT_URL, "valueString": text}]
    if kind != "ok":
        parts: list[dict[str, Any]] = [
            {"url": "kind", "valueCode": kind},
            {"url": "resolution", "valueCode": {"ambiguous": "first-occurrence", "nonexistent": "shifted-forward"}[kind]},
            {"url": "zone", "valueString": zone},
            {"url": "offset", "valueString": offset},
        ]
        if shift:
            parts.append({"url": "shiftMinutes", "valueInteger": shift})
        ext.append({"url": TIME_ADJUSTMENT_URL, "extension": parts})
    return {"extension": ext}


# -- the delimited engine ----------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "wall", "utc", "kind", "offset", "shift"), CASES, ids=IDS)
def test_delimited_value(zone: str, wall: str, utc: str, kind: str, offset: str | None, shift: int) -> None:
    assert parse_datetime(wall, zone) == utc
    got = convert_datetime(wall, zone)
    assert got.value == utc  # type: ignore[union-attr]
    assert got.shadow == expected_shadow(wall, zone, kind, offset, shift)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-03-10T02:30:00-05:00", "2024-03-10T07:30:00Z"),  # the offset wins over the zone
        ("2024-11-03T01:30:00-05:00", "2024-11-03T06:30:00Z"),  # the second 01:30, said so
        ("2024-11-03T01:30:00-04:00", "2024-11-03T05:30:00Z"),
        ("2024-03-10T02:30:00+0000", "2024-03-10T02:30:00Z"),
    ],
)
def test_explicit_offsets_bypass_the_zone(text: str, utc: str) -> None:
    with collect_time_adjustments() as counts:
        got = convert_datetime(text, NY)
    assert got.value == utc  # type: ignore[union-attr]
    assert got.shadow == {"extension": [{"url": ORIGINAL_TEXT_URL, "valueString": text}]}  # type: ignore[union-attr]
    assert not counts


def test_reports_count_every_value_even_when_cached() -> None:
    with collect_time_adjustments() as counts:
        for _ in range(3):
            parse_datetime("2024-03-10 02:30", NY)
        convert_datetime("2024-11-03 01:30", NY)
        convert_datetime("2024-11-03 01:30", LONDON)  # ordinary in London
        hl7_datetime("20241103013000", NY)
    assert counts == {("nonexistent", NY): 3, ("ambiguous", NY): 2}
    parse_datetime("2024-03-10 02:30", NY)  # no collector open: nothing to count, no error


# -- HL7 v2 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "wall", "utc", "kind", "offset", "shift"), CASES, ids=IDS)
def test_hl7_value(zone: str, wall: str, utc: str, kind: str, offset: str | None, shift: int) -> None:
    ts = wall.replace("-", "").replace(" ", "").replace(":", "")
    assert hl7_datetime(ts, zone) == utc


def test_hl7_offset_bypasses_the_zone() -> None:
    assert hl7_datetime("202403100230-0500", NY) == "2024-03-10T07:30:00Z"
    assert hl7_datetime("202411030130-0500", NY) == "2024-11-03T06:30:00Z"


def hl7_encounter(admit: str, discharge: str) -> dict[str, Any]:
    text = "\r".join([
        "MSH|^~\\&|HIS|LAKESIDE|MEDLAKE|LAKESIDE|20241103013000||ADT^A03|C-1|P|2.5",
        "EVN|A03|20241103013000",
        "PID|1||1001^^^HOSP^MR||Rivera^Ana||19800214|F",
        "|".join(["PV1", "1", "I", "4W^401", *[""] * 15, "V1", *[""] * 24, admit, discharge]),
    ])  # fmt: skip
    msg = parse_hl7(text.encode(), name="t.hl7").messages[0]
    m = map_message(msg, Hl7Context("acme", "adt", "urn:acme:adt", NY), 0)
    (encounter,) = [r.resource for r in m.resources if r.resource_type == "Encounter"]
    return encounter


def test_hl7_mapping_marks_the_adjusted_element() -> None:
    with collect_time_adjustments() as counts:
        enc = hl7_encounter("202403100230", "202411030130")
    assert enc["period"] == {
        "start": "2024-03-10T07:30:00Z",
        "_start": expected_shadow("202403100230", NY, "nonexistent", "-05:00", 60),
        "end": "2024-11-03T05:30:00Z",
        "_end": expected_shadow("202411030130", NY, "ambiguous", "-04:00", 0),
    }
    assert counts == {("nonexistent", NY): 1, ("ambiguous", NY): 1}


def test_hl7_mapping_leaves_ordinary_times_as_they_were() -> None:
    enc = hl7_encounter("202403051000", "202403061130")
    assert enc["period"] == {"start": "2024-03-05T15:00:00Z", "end": "2024-03-06T16:30:00Z"}


# -- X12 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "wall", "utc", "kind", "offset", "shift"), CASES, ids=IDS)
def test_x12_dt_period(zone: str, wall: str, utc: str, kind: str, offset: str | None, shift: int) -> None:
    dt = wall.replace("-", "").replace(" ", "").replace(":", "")
    shadow = expected_shadow(dt, zone, kind, offset, shift)
    assert x12_period("DT", dt, zone) == {"start": utc, "_start": shadow, "end": utc, "_end": shadow}


def test_x12_rdt_period_and_dates_unchanged() -> None:
    got = x12_period("RDT", "202411030130-202411030230", NY)
    assert got is not None
    assert (got["start"], got["end"]) == ("2024-11-03T05:30:00Z", "2024-11-03T07:30:00Z")
    assert got["_end"] == expected_shadow("202411030230", NY, "ok", None, 0)
    assert x12_period("D8", "20240310", NY) == {"start": "2024-03-10", "end": "2024-03-10"}
    assert x12_period("RD8", "20240310-20240311", NY) == {"start": "2024-03-10", "end": "2024-03-11"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024031002", "`2024031002` is not a CCYYMMDDHHMM date-time"),
        ("202403100260", "`202403100260` is not a valid date-time"),
        ("20240310023x", "`20240310023x` is not a CCYYMMDDHHMM date-time"),
    ],
)
def test_x12_bad_date_times(text: str, message: str) -> None:
    with pytest.raises(X12ValueError) as err:
        x12_period("DT", text, NY)
    assert str(err.value) == message


# -- the report after a silver run ---------------------------------------------------------------
SPEC = """\
name: visits
description: visits with local times, for the DST report test
kinds:
  visits:
    match: ["*.csv"]
    resources:
      - type: Encounter
        id: "{visit}"
        fields:
          status: finished
          class.code: AMB
          period.start: {column: start, type: datetime}
"""


@pytest.mark.slow
def test_silver_run_reports_adjustments(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    rows = ["V1,2024-03-10 02:30", "V2,2024-11-03 01:30", "V3,2024-11-03 01:45", "V4,2024-07-01 12:00",
            "V5,2024-11-03T01:30:00-05:00"]  # fmt: skip
    (feed / "visits.csv").write_text("visit,start\n" + "\n".join(rows) + "\n")
    (tmp_path / "visits.yaml").write_text(SPEC)
    (tmp_path / "medlake.yaml").write_text(
        "lake: ./lake\ntenants:\n  - name: t\n    timezone: America/New_York\n    sources:\n"
        "      - {name: clinic, kind: delimited, location: ./feed, mapping: ./visits.yaml}\n"
    )
    project = load_config(tmp_path / "medlake.yaml")
    run(project, "t", ("land", "bronze", "silver"))
    con = connect(open_lake(project, "t"), gold=False)
    try:
        report = con.execute(
            "select source, kind, resolution, zone, count from meta.time_adjustments order by kind"
        ).fetchall()
        starts = dict(con.execute(
            "select source_id, json_extract_string(resource, '$.period.start') from silver.encounter"
        ).fetchall())  # fmt: skip
    finally:
        con.close()
    assert report == [
        ("clinic", "ambiguous", "first-occurrence", NY, 2),
        ("clinic", "nonexistent", "shifted-forward", NY, 1),
    ]
    assert starts == {
        "V1": "2024-03-10T07:30:00Z", "V2": "2024-11-03T05:30:00Z", "V3": "2024-11-03T05:45:00Z",
        "V4": "2024-07-01T16:00:00Z", "V5": "2024-11-03T06:30:00Z",
    }  # fmt: skip
