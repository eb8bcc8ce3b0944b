"""Valid time of bronze rows: HL7 MSH-7, X12 BHT/GS dates, FHIR meta.lastUpdated, landing time."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from medlake.silver.schema import TS
from medlake.silver.source_time import fhir_time, record_times, x12_time

LANDED = datetime(2026, 5, 1, tzinfo=UTC)


def us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000  # type: ignore[misc]


def landed(n: int) -> pa.Array:
    return pa.array([LANDED] * n, TS)


@pytest.mark.parametrize(
    ("msh7", "expected"),
    [
        ("20240110083000", us(2024, 1, 10, 13, 30)),  # EST, no offset: local time in the zone
        ("20240710083000", us(2024, 7, 10, 12, 30)),  # EDT
        ("20240110083000+0100", us(2024, 1, 10, 7, 30)),  # an offset wins over the zone
        ("202401100830", us(2024, 1, 10, 13, 30)),
        ("20240110", us(2026, 5, 1)),  # a date alone is not an instant: landing time
        ("not a time", us(2026, 5, 1)),
        (None, us(2026, 5, 1)),
    ],
)
def test_hl7_message_time(msh7: str | None, expected: int) -> None:
    table = pa.table({"message_time": [msh7], "raw": ["MSH|..."], "_landed_at": landed(1)})
    assert record_times(table, "America/New_York") == [expected]


@pytest.mark.parametrize(
    ("gs", "raw", "expected"),
    [
        ("GS*HC*A*B*20240120*1200*1*X*005010X222A1~", "ST*837*0001*005010X222A1~BHT*0019*00*X1*20240105*0930*CH~", us(2024, 1, 5, 9, 30)),
        ("GS*HC*A*B*20240120*1200*1*X*005010X222A1~", "ST*837*0001~\nBHT*0019*00*X1*20240105*093015*CH~", us(2024, 1, 5, 9, 30, 15)),
        ("GS*HP*A*B*20240120*1200*1*X*005010X221A1~", "ST*835*0001~BPR*I*10~", us(2024, 1, 20, 12)),  # no BHT: GS
        ("GS*HP*A*B*20231223*1200~", "ST*835*0002~\nBPR*I*10~\nTRN*1*T~\nDTM*405*20240210~", us(2024, 2, 10)),  # 835 production date
        ("GS*HP*A*B*20240120~", "ST*835*0001~", us(2024, 1, 20)),  # a date alone: midnight
        ("GS|HP|A|B|20240120|1200|1|X|005010X221A1~", "ST|835|0001~", us(2024, 1, 20, 12)),  # other separator
        ("GS*HP*A*B*2024012*1200~", "ST*835*0001~", None),  # a bad date: nothing
        (None, None, None),
    ],
)
def test_x12_time(gs: str | None, raw: str | None, expected: int | None) -> None:
    assert x12_time(gs, raw, "UTC") == expected


def test_x12_rows_fall_back_to_landing_time() -> None:
    table = pa.table({"gs": [None], "raw": ["ST*835*0001~"], "_landed_at": landed(1)})
    assert record_times(table, "UTC") == [us(2026, 5, 1)]


def test_delimited_rows_carry_their_landing_time() -> None:
    table = pa.table({"MRN": ["1", "2"], "_landed_at": landed(2)})
    assert record_times(table, "UTC") == [us(2026, 5, 1)] * 2


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"lastUpdated": "2024-03-01T10:00:00Z"}, us(2024, 3, 1, 10)),
        ({"lastUpdated": "2024-03-01T10:00:00.5+02:00"}, us(2024, 3, 1, 8) + 500_000),
        ({"lastUpdated": "2024-03-01"}, 7),  # not an instant
        ({}, 7),
        ("junk", 7),
    ],
)
def test_fhir_last_updated(meta: object, expected: int) -> None:
    assert fhir_time({"resourceType": "Patient", "meta": meta}, 7) == expected
