"""The readmission_* and utilization_* marts over a hand-built inpatient population.

The population and its story are in readmission_silver_fixture.py; every expected value below
was worked out by hand from the rules in docs/gold.md ("Readmissions and utilization"). As-of
date 2024-06-30 (pf's visit), so stays discharged after 2024-05-31 lack 30-day follow-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pytest
from gold_silver_fixture import register_silver
from readmission_silver_fixture import write_readmission_silver

from medlake.gold.runner import GoldResult, run_gold
from medlake.silver.views import flat

DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MARTS = ["readmission_by_condition", "readmission_by_facility", "readmission_by_payer",
         "readmission_stays", "readmission_summary", "utilization_summary",
         "utilization_top_diagnoses"]  # fmt: skip

pytestmark = pytest.mark.slow  # one dbt build (~12 s)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> GoldResult:
    root = tmp_path_factory.mktemp("readmission")
    write_readmission_silver(root)
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        register_silver(con, root)
        flat.write_views(con, root / "silver" / "views")
    finally:
        con.close()
    return run_gold(root, select="+path:models/marts/readmission +path:models/marts/utilization")


@pytest.fixture(scope="module")
def con(built: GoldResult) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(config=DUCKDB_CONFIG)
    c.execute("ATTACH ? AS g (READ_ONLY)", [str(built.gold_path)])
    yield c
    c.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    rel = con.sql(sql)
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def stays(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    return {r["stay_id"]: r for r in rows(con, "SELECT * FROM g.gold.readmission_stays")}


def test_build_and_dbt_tests_pass(built: GoldResult) -> None:
    assert {m: built.row_counts[m] for m in MARTS} == {
        "readmission_by_condition": 5, "readmission_by_facility": 2, "readmission_by_payer": 2,
        "readmission_stays": 10, "readmission_summary": 1, "utilization_summary": 7,
        "utilization_top_diagnoses": 8,
    }  # fmt: skip
    ours = [t for t in built.tests if "readmission" in t.name or "utilization" in t.name]
    assert len(ours) >= 20
    assert {t.status for t in built.tests} == {"pass"}


def test_index_stays_exclude_death_and_against_medical_advice(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # c1: died on the discharge day; d1: NUBC 07 left against medical advice
    assert sorted(stays(con)) == ["a1", "a3", "a4", "b1", "b2", "d2", "e1", "e2", "e3", "f1"]


def test_transfer_chained_into_one_stay(con: duckdb.DuckDBPyConnection) -> None:
    a1 = stays(con)["a1"]
    assert (a1["encounter_ids"], a1["encounter_count"], a1["admit_date"], a1["discharge_date"]) == (
        ["a1", "a2"], 2, d("2024-01-01"), d("2024-01-08"),
    )  # fmt: skip
    # discharging facility, admission diagnosis, coverage active at admission
    assert (a1["los_days"], a1["facility_id"], a1["facility_name"]) == (7, "o2", "County Hospital")
    assert (a1["principal_dx_code"], a1["condition_cohort"]) == ("I509", "CHF")
    assert (a1["payer_id"], a1["payer_name"]) == ("pay1", "Acme Health")


def test_readmission_on_day_30_counts(con: duckdb.DuckDBPyConnection) -> None:
    a1 = stays(con)["a1"]
    assert (a1["readmitted_30d"], a1["readmission_stay_id"], a1["days_to_readmission"]) == (
        True,
        "a3",
        30,
    )
    assert (a1["readmission_planned"], a1["unplanned_readmission_30d"]) == (False, True)


def test_readmission_on_day_31_does_not(con: duckdb.DuckDBPyConnection) -> None:
    b1 = stays(con)["b1"]
    assert (b1["readmitted_30d"], b1["readmission_stay_id"], b1["days_to_readmission"]) == (
        False,
        None,
        None,
    )
    assert (b1["condition_cohort"], b1["unplanned_readmission_30d"]) == ("AMI", False)


def test_two_index_stays_chained(con: duckdb.DuckDBPyConnection) -> None:
    s = stays(con)
    # a3 is a1's readmission and an index stay of its own; a4 (next day, same facility) is a
    # new stay and a3's readmission. a3's diagnosis comes from its Condition (no reasonCode).
    assert (s["a3"]["condition_cohort"], s["a3"]["readmission_stay_id"], s["a3"]["days_to_readmission"]) == (
        "pneumonia", "a4", 1,
    )  # fmt: skip
    assert (s["a4"]["encounter_ids"], s["a4"]["readmitted_30d"], s["a4"]["condition_cohort"]) == (
        ["a4"], False, "other",
    )  # fmt: skip


def test_planned_readmissions_flagged(con: duckdb.DuckDBPyConnection) -> None:
    s = stays(con)
    got = {k: (s[k]["readmission_stay_id"], s[k]["days_to_readmission"], s[k]["readmission_planned"],
               s[k]["readmission_planned_reason"], s[k]["unplanned_readmission_30d"])
           for k in ("e1", "e2", "e3")}  # fmt: skip
    assert got == {
        "e1": ("e2", 17, True, "chemotherapy", False),  # e2: Z51.11
        "e2": ("e3", 9, True, "elective", False),  # e3: priority EL
        "e3": (None, None, False, None, False),
    }


def test_follow_up_window(con: duckdb.DuckDBPyConnection) -> None:
    s = stays(con)
    assert {k for k, v in s.items() if not v["has_complete_followup"]} == {
        "f1"
    }  # 06-20 + 30 > 06-30


def test_summary(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "SELECT * FROM g.gold.readmission_summary") == [
        {
            "period_start": d("2024-01-03"), "period_end": d("2024-05-02"), "index_stays": 9,
            "readmissions_30d": 2, "readmission_rate": 2 / 9, "planned_readmissions": 2,
        }
    ]  # fmt: skip


def test_breakdowns(con: duckdb.DuckDBPyConnection) -> None:
    cols = "index_stays, readmissions_30d, readmission_rate, planned_readmissions"
    facility = rows(
        con,
        f"SELECT facility_id, facility_name, {cols} FROM g.gold.readmission_by_facility ORDER BY 1",
    )
    assert [tuple(r.values()) for r in facility] == [
        ("o1", "General Hospital", 6, 0, 0.0, 2), ("o2", "County Hospital", 3, 2, 2 / 3, 0),
    ]  # fmt: skip
    payer = rows(
        con, f"SELECT payer_id, payer_name, {cols} FROM g.gold.readmission_by_payer ORDER BY 1"
    )
    assert [tuple(r.values()) for r in payer] == [
        ("pay1", "Acme Health", 3, 2, 2 / 3, 0), ("unknown", None, 6, 0, 0.0, 2),
    ]  # fmt: skip
    cond = rows(
        con, f"SELECT condition_cohort, {cols} FROM g.gold.readmission_by_condition ORDER BY 1"
    )
    assert [tuple(r.values()) for r in cond] == [
        ("AMI", 1, 0, 0.0, 0), ("CHF", 1, 1, 1.0, 0), ("COPD", 1, 0, 0.0, 0),
        ("other", 4, 0, 0.0, 1), ("pneumonia", 2, 1, 0.5, 1),
    ]  # fmt: skip


def test_utilization_summary(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        (r["period_type"], r["period_start"]): r
        for r in rows(con, "SELECT * FROM g.gold.utilization_summary")
    }
    assert sorted(got) == [("month", d(f"2024-0{m}-01")) for m in range(1, 7)] + [
        ("year", d("2024-01-01"))
    ]
    jan, feb, year = (
        got["month", d("2024-01-01")],
        got["month", d("2024-02-01")],
        got["year", d("2024-01-01")],
    )
    # January: 6 persons (pc died 01-10, so counted); admissions a1, b1, c1; ED a-ed;
    # discharges a1 (los 7), b1 (2), c1 (5)
    assert (jan["persons"], jan["ed_visits"], jan["inpatient_admissions"]) == (6, 1, 3)
    assert (jan["ed_visits_per_1000"], jan["inpatient_admissions_per_1000"]) == (
        pytest.approx(1000 / 6),
        500.0,
    )
    assert (jan["inpatient_discharges"], jan["avg_length_of_stay_days"]) == (
        3,
        pytest.approx(14 / 3),
    )
    # February: pc no longer in the population; a3, a4, b2 admitted
    assert (feb["persons"], feb["inpatient_admissions"], feb["period_end"]) == (
        5,
        3,
        d("2024-02-29"),
    )
    # the year: 12 stays (a1+a2 is one), los total 32; ED a-ed and b-ed
    assert (year["persons"], year["ed_visits"], year["inpatient_admissions"], year["period_end"]) == (
        6, 2, 12, d("2024-12-31"),
    )  # fmt: skip
    assert (year["inpatient_admissions_per_1000"], year["avg_length_of_stay_days"]) == (
        2000.0,
        pytest.approx(32 / 12),
    )


def test_utilization_top_diagnoses(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "SELECT setting, diagnosis_rank, diagnosis_code, diagnosis_display, event_count, person_count "
                    "FROM g.gold.utilization_top_diagnoses WHERE year = 2024 ORDER BY setting, diagnosis_rank")  # fmt: skip
    pneumonia = "Pneumonia, unspecified organism"
    assert [tuple(r.values()) for r in got] == [
        ("ed", 1, "J189", pneumonia, 1, 1), ("ed", 2, "unknown", None, 1, 1),
        ("inpatient", 1, "unknown", None, 6, 6), ("inpatient", 2, "J189", pneumonia, 2, 2),
        ("inpatient", 3, "I214", None, 1, 1), ("inpatient", 4, "I509", None, 1, 1),
        ("inpatient", 5, "J441", None, 1, 1), ("inpatient", 6, "Z5111", None, 1, 1),
    ]  # fmt: skip
