"""As-of sessions: hand-made versions at known record and valid times, queried at several instants.

The lake (record time R, valid time V):

    p1 v1 "A"     recorded 2026-01-01  valid 2025-12-01  current until 2026-02-01
    p1 v2 "B"     recorded 2026-02-01  valid 2026-01-15  current since
    p2 v1 "Zed"   recorded 2026-02-01  valid 2026-01-20  current since
    p1 v3 "Late"  recorded 2026-03-01  valid 2025-12-20  late arrival: never current
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from medlake.errors import ConfigError
from medlake.lake.asof import connect_as_of, connect_bitemporal, parse_instant
from medlake.lake.paths import TenantLake
from medlake.silver import store


def _us(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000


def _rec(rid: str, family: str, valid: datetime, sha: str) -> store.SilverRecord:
    res: dict[str, Any] = {"resourceType": "Patient", "id": rid, "name": [{"family": family}], "gender": "female"}
    return store.SilverRecord(rid, "Patient", res, rid, "ehr", "urn:x", f"src-{rid}", sha, "f.hl7", 0, "b", _us(valid))


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> TenantLake:
    tl = TenantLake.open(str(tmp_path_factory.mktemp("asof")), "t")
    store.write(tl, "t", [_rec("p1", "A", d(2025, 12, 1), "o1")], now=d(2026, 1, 1))
    store.write(tl, "t", [_rec("p1", "B", d(2026, 1, 15), "o2"), _rec("p2", "Zed", d(2026, 1, 20), "o2")], now=d(2026, 2, 1))
    store.write(tl, "t", [_rec("p1", "Late", d(2025, 12, 20), "o3")], now=d(2026, 3, 1))
    return tl


def _silver(con: Any) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in con.sql("select id, version from silver.patient order by id").fetchall()]


def _view(con: Any) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.sql("select id, family_name from views.patient order by id").fetchall()]


@pytest.mark.parametrize(
    ("instant", "silver", "names"),
    [
        (d(2025, 12, 31), [], []),
        (d(2026, 1, 1), [("p1", 1)], [("p1", "A")]),  # recorded exactly then: already current
        (d(2026, 1, 20), [("p1", 1)], [("p1", "A")]),
        (d(2026, 2, 1), [("p1", 2), ("p2", 1)], [("p1", "B"), ("p2", "Zed")]),
        (d(2026, 3, 2), [("p1", 2), ("p2", 1)], [("p1", "B"), ("p2", "Zed")]),  # the late arrival is not current
    ],
    ids=["before anything", "at the first write", "between writes", "at the correction", "after the late arrival"],
)
def test_record_time_as_of(lake: TenantLake, instant: datetime, silver: list[tuple[str, int]], names: list[tuple[str, str]]) -> None:
    con = connect_as_of(lake, instant)
    assert _silver(con) == silver
    assert _view(con) == names


def test_history_as_of_hides_what_was_recorded_later(lake: TenantLake) -> None:
    con = connect_as_of(lake, d(2026, 1, 20))
    rows = con.sql("select id, version, valid_to from silver.patient_history order by id, version").fetchall()
    assert rows == [("p1", 1, None)]  # its close-out on 2026-02-01 was not known yet
    con = connect_as_of(lake, d(2026, 3, 2))
    rows = con.sql("select id, version, reason from silver.patient_history order by id, version").fetchall()
    assert rows == [("p1", 1, "initial"), ("p1", 2, "correction"), ("p1", 3, "late_arrival"), ("p2", 1, "initial")]


@pytest.mark.parametrize(
    ("valid", "recorded", "names"),
    [
        (d(2025, 12, 10), None, [("p1", "A")]),
        (d(2025, 12, 25), None, [("p1", "Late")]),  # known now: the late arrival was true then
        (d(2025, 12, 25), d(2026, 2, 15), [("p1", "A")]),  # as known before it arrived
        (d(2026, 1, 16), None, [("p1", "B")]),
        (d(2026, 1, 21), None, [("p1", "B"), ("p2", "Zed")]),
    ],
    ids=["first version", "late arrival known now", "late arrival not yet known", "correction", "both"],
)
def test_valid_time(lake: TenantLake, valid: datetime, recorded: datetime | None, names: list[tuple[str, str]]) -> None:
    con = connect_bitemporal(lake, recorded_at=recorded, valid_at=valid) if recorded else connect_as_of(lake, valid, valid=True)
    assert _view(con) == names


def test_a_view_over_history_sees_only_versions_recorded_by_then(lake: TenantLake) -> None:
    con = connect_as_of(lake, d(2026, 1, 20))
    assert con.sql("select count(*) from views.claim_version").fetchall() == [(0,)]  # no claims: an empty view runs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", d(2026, 1, 1)),
        ("2026-01-01", d(2026, 1, 1)),
        ("2026-01-01 05:30", datetime(2026, 1, 1, 5, 30, tzinfo=UTC)),
        ("2026-01-01T02:00:00+02:00", d(2026, 1, 1)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


def test_parse_instant_rejects_what_is_not_an_instant() -> None:
    with pytest.raises(ConfigError) as e:
        parse_instant("last tuesday", "--as-of")
    assert e.value.message == (
        "--as-of `last tuesday` is not an instant; write ISO 8601 like `2026-01-01T00:00:00Z` "
        "(an offset such as `+02:00` also works; none means UTC) or a date `2026-01-01`"
    )


def test_a_naive_instant_is_refused_by_the_python_api(lake: TenantLake) -> None:
    with pytest.raises(ConfigError, match="has no time zone"):
        connect_as_of(lake, datetime(2026, 1, 1))
