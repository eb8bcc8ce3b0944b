"""gold.cohort_members / cohort_summary / kpi_executive and a YAML cohort over the hand-written
silver fixture (tests/gold/gold_silver_fixture.py), one dbt build for the module.

By hand from the fixture (as_of 2024-06-30T12:00Z):
  p1: I10 hypertension (onset 2023-09-02), diabetes E11.9 (onset 2023-09-01), asthma J45
      (2010-01-01); latest BP 128/82 (diastolic >= 80) -> bp_130_139_or_80_89; latest usable
      HbA1c 7.2 -> hba1c_7_to_9; asthma: an inpatient stay in the last 12 months ->
      high_utilization; all encounters with a practitioner are pr1's.
  p2: diabetes (onset 2015-06-01), latest HbA1c 6.4 -> hba1c_lt_7; no practitioner.
  p3: no cohort condition.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from medlake.gold.runner import GoldResult, run_gold
from medlake.silver.views import flat

pytestmark = pytest.mark.slow

YAML = """
name: adults_with_diabetes_and_high_hba1c
description: diabetes diagnosis and any HbA1c of 7 or more
include:
  - condition: {icd10: [E11]}
  - observation: {loinc: [4548-4], compare: ">=", value: 7}
  - age: {min: 18}
"""


@pytest.fixture(scope="module")
def gold(tenant_root: Path, silver_con: duckdb.DuckDBPyConnection) -> GoldResult:
    flat.write_views(silver_con, tenant_root / "silver" / "views")
    cohorts = tenant_root / "cohorts"
    cohorts.mkdir()
    (cohorts / "high_hba1c.yaml").write_text(YAML, encoding="utf-8")
    return run_gold(tenant_root, cohorts_dir=cohorts)


def test_build_passes_with_cohort_and_kpi_tests(gold: GoldResult) -> None:
    assert gold.tests_failed == 0
    assert {m: gold.row_counts[m] for m in ("cohort_members", "cohort_summary", "cohort_attribution")} == {
        "cohort_members": 4, "cohort_summary": 7, "cohort_attribution": 3,
    }  # fmt: skip
    assert gold.cohorts == {"adults_with_diabetes_and_high_hba1c": 1}
    assert any(t.name.startswith("accepted_values_cohort_members_risk_stratum") for t in gold.tests)


def test_cohort_members(gold_con: duckdb.DuckDBPyConnection) -> None:
    rows = gold_con.execute(
        "select person_id, cohort, onset_date, evidence_type, risk_stratum, attributed_provider "
        "from g.gold.cohort_members order by person_id, cohort"
    ).fetchall()
    assert rows == [
        ("p1", "asthma", date(2010, 1, 1), "diagnosis", "high_utilization", "pr1"),
        ("p1", "diabetes", date(2023, 9, 1), "diagnosis", "hba1c_7_to_9", "pr1"),
        ("p1", "hypertension", date(2023, 9, 2), "diagnosis", "bp_130_139_or_80_89", "pr1"),
        ("p2", "diabetes", date(2015, 6, 1), "diagnosis", "hba1c_lt_7", None),
    ]
    summary = gold_con.execute(
        "select cohort, risk_stratum, persons from g.gold.cohort_summary where cohort = 'diabetes' order by 2"
    ).fetchall()
    assert summary == [("diabetes", "all", 2), ("diabetes", "hba1c_7_to_9", 1), ("diabetes", "hba1c_lt_7", 1)]


def test_yaml_cohort(gold_con: duckdb.DuckDBPyConnection) -> None:
    rows = gold_con.execute(
        "select person_id, cohort, evidence_code, attributed_provider from g.gold.cohort_custom_members"
    ).fetchall()
    # p1: E11.9 and HbA1c 7.2 / 8.1; p2's only HbA1c is 6.4
    assert [(r[0], r[1], r[3]) for r in rows] == [("p1", "adults_with_diabetes_and_high_hba1c", "pr1")]


def test_kpi_executive(gold_con: duckdb.DuckDBPyConnection) -> None:
    kpi = {
        (m, d): (v, u, p)
        for m, d, v, u, p in gold_con.execute(
            "select metric, dimension, value, unit, period from g.gold.kpi_executive"
        ).fetchall()
    }
    assert kpi[("encounters_12m", None)] == (4.0, "encounters", "last_12_months")
    assert kpi[("ed_visits_12m", None)] == (2.0, "encounters", "last_12_months")
    assert kpi[("inpatient_admissions_12m", None)] == (1.0, "encounters", "last_12_months")
    assert kpi[("source_patient_records", None)] == (3.0, "records", "as_of")
    assert kpi[("cohort_persons", "diabetes")] == (2.0, "persons", "as_of")
    assert kpi[("source_lag_days", "ehr")] == (0.0, "days", "as_of")
    assert {d for m, d in kpi if m == "data_freshness_days"} == {"ehr", "clinic"}
    # no claims in this fixture: no denial rate or days in AR rows
    assert not {m for m, _ in kpi} & {"denial_rate", "days_in_ar"}
