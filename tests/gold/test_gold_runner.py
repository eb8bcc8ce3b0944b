"""`run_gold` over the hand-written silver fixture: one dbt build per module.

Expected values worked out by hand from gold_silver_fixture.py. as_of_at is the latest
clinical time in the data, 2024-06-30T12:00Z (encounter e1), so the 12-month window is
(2023-06-30T12:00Z, 2024-06-30T12:00Z].
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from medlake.gold.runner import GoldBuildError, GoldResult, project_dir, run_gold


def T(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def p360(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    rel = con.sql("SELECT * FROM g.gold.patient_360")
    cols = rel.columns
    # one row per enterprise person; with no golden Person in the fixture every patient is
    # its own person (person_id = patient_id, patient_ids = [patient_id])
    return {row[0]: dict(zip(cols, row, strict=True)) for row in rel.fetchall()}


def test_build_succeeds_and_dbt_tests_pass(gold: GoldResult) -> None:
    marts = ["dim_patient", "fct_conditions", "fct_encounters", "fct_immunizations",
             "fct_medications", "fct_observations", "fct_procedures", "patient_360"]  # fmt: skip
    # issue 7 marts (cohort_, kpi_, …) have their own tests
    assert {m: n for m, n in gold.row_counts.items() if not m.startswith(("rcm_", "cohort_", "kpi_", "readmission_", "utilization_", "quality_"))} == {
        "dim_patient": 3, "fct_conditions": 6, "fct_encounters": 6, "fct_immunizations": 2,
        "fct_medications": 5, "fct_observations": 18, "fct_procedures": 1, "patient_360": 3,
    }  # fmt: skip
    # no claims here: the revenue-cycle marts (tests/gold/test_rcm_marts.py) are built and empty
    # but for their totals row
    assert {m for m, n in gold.row_counts.items() if m.startswith("rcm_") and n} == {
        "rcm_reconciliation_totals"
    }
    assert all(gold.models[m] == "success" for m in marts)
    assert gold.models["stg__patient"] == "success"
    assert gold.models["chronic_condition_codes"] == "success"
    names = {t.name for t in gold.tests}
    assert "unique_patient_360_person_id" in names
    assert "relationships_fct_encounters_patient_id__patient_id__ref_dim_patient_" in names
    assert len(gold.tests) >= 35
    assert {t.status for t in gold.tests} == {"pass"}
    assert (gold.tests_passed, gold.tests_warned, gold.tests_failed) == (len(gold.tests), 0, 0)
    assert gold.elapsed_seconds > 0
    assert gold.gold_path.name == "gold.duckdb"


def test_patient_360_p1(gold_con: duckdb.DuckDBPyConnection) -> None:
    p1 = p360(gold_con)["p1"]
    assert (p1["person_id"], p1["patient_ids"], p1["patient_count"], p1["has_golden_record"]) == ("p1", ["p1"], 1, False)
    assert p1["as_of_at"] == T("2024-06-30T12:00")
    assert p1["age_years"] == 64
    # c1 E11.9 and c2 I10 active; c4 asthma resolved
    assert p1["active_problems"] == [
        "Essential (primary) hypertension",
        "Type 2 diabetes mellitus without complications",
    ]
    assert p1["active_problem_count"] == 2
    assert (
        p1["has_diabetes"],
        p1["has_hypertension"],
        p1["has_asthma"],
        p1["has_chf"],
        p1["has_copd"],
        p1["has_ckd"],
        p1["has_depression"],
    ) == (True, True, False, False, False, False, False)
    # latest BP is the 2024-06-30 panel's components, not 2023's 140/90
    assert (p1["bp_systolic_value"], p1["bp_systolic_at"], p1["bp_systolic_source_system"]) == (
        128.0,
        T("2024-06-30T12:00"),
        "urn:medlake:ehr",
    )
    assert (p1["bp_diastolic_value"], p1["bp_diastolic_unit"]) == (82.0, "mm[Hg]")
    assert (p1["heart_rate_value"], p1["bmi_value"], p1["weight_value"]) == (72.0, 27.3, 80.5)
    # o5 (6.9, 2024-04-30) is entered-in-error: the latest usable HbA1c is the lab's 7.2
    assert (p1["hba1c_value"], p1["hba1c_unit"], p1["hba1c_at"], p1["hba1c_source_system"]) == (
        7.2,
        "%",
        T("2024-03-15T09:00"),
        "urn:medlake:lab",
    )
    assert (p1["egfr_value"], p1["egfr_source_system"]) == (58.0, "urn:medlake:lab")
    assert (p1["ldl_value"], p1["glucose_value"]) == (None, None)
    # mr1, mr2 active; md2 handed over 2024-02-01 + 30 days has run out
    assert p1["active_medications"] == [
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "lisinopril 10 MG Oral Tablet",
    ]
    assert p1["active_medication_count"] == 2
    assert (
        p1["last_encounter_id"],
        p1["last_encounter_at"],
        p1["last_encounter_class"],
        p1["last_encounter_source"],
    ) == ("e1", T("2024-06-30T12:00"), "AMB", "ehr")
    # e1, e2 (EMER), e3 (IMP) in the window; e4 (IMP, 2023-03) is not
    assert (
        p1["encounters_total"],
        p1["encounters_12m"],
        p1["ed_visits_12m"],
        p1["inpatient_stays_12m"],
    ) == (4, 3, 1, 1)
    assert p1["source_systems"] == ["urn:medlake:ehr", "urn:medlake:lab", "urn:medlake:pharmacy"]
    assert p1["source_system_count"] == 3


def test_patient_360_p2_and_p3(gold_con: duckdb.DuckDBPyConnection) -> None:
    rows = p360(gold_con)
    p2 = rows["p2"]
    # ICD-9 250.00 -> diabetes; I50.9 entered-in-error -> no CHF. SNOMED 13645005 (COPD) is
    # *not* flagged: SNOMED CT codes are user-supplied (licence), the shipped seed has none.
    assert p2["active_problem_count"] == 2
    assert (p2["has_diabetes"], p2["has_copd"], p2["has_chf"], p2["has_hypertension"]) == (
        True,
        False,
        False,
        False,
    )
    # HbA1c sent with a local code first and LOINC second still counts
    assert (p2["hba1c_value"], p2["hba1c_at"], p2["hba1c_source_system"]) == (
        6.4,
        T("2023-08-01T10:00"),
        "urn:medlake:clinic",
    )
    assert (p2["ldl_value"], p2["glucose_value"], p2["bp_systolic_value"]) == (130.0, 110.0, None)
    # mr3 stopped; md1 handed over 2024-06-15 with 30 days' supply covers as_of
    assert p2["active_medications"] == ["Metformin 500 mg tablet"]
    assert (
        p2["encounters_total"],
        p2["encounters_12m"],
        p2["ed_visits_12m"],
        p2["inpatient_stays_12m"],
    ) == (2, 1, 1, 0)
    assert (p2["last_encounter_class"], p2["last_encounter_source"]) == ("EMER", "clinic")
    assert p2["age_years"] == 48  # at death, 2024-07-01
    assert p2["source_systems"] == ["urn:medlake:clinic", "urn:medlake:pharmacy"]

    p3 = rows["p3"]
    assert (p3["active_problems"], p3["active_problem_count"], p3["active_medications"]) == (
        [],
        0,
        [],
    )
    assert (p3["encounters_total"], p3["last_encounter_at"], p3["hba1c_value"]) == (0, None, None)
    assert p3["source_systems"] == ["urn:medlake:ehr"]


def test_facts(gold_con: duckdb.DuckDBPyConnection) -> None:
    enc = gold_con.sql(
        "SELECT encounter_id, is_ed_visit, is_inpatient, length_of_stay_days "
        "FROM g.gold.fct_encounters ORDER BY encounter_id"
    ).fetchall()
    assert enc == [("e1", False, False, None), ("e2", True, False, None),
                   ("e3", False, True, 4), ("e4", False, True, 2),
                   ("e5", True, False, None), ("e6", False, False, None)]  # fmt: skip
    cond = gold_con.sql(
        "SELECT condition_id, is_active, chronic_condition_groups FROM g.gold.fct_conditions "
        "ORDER BY condition_id"
    ).fetchall()
    assert cond == [("c1", True, ["diabetes"]), ("c2", True, ["hypertension"]),
                    ("c3", True, ["diabetes"]), ("c4", False, ["asthma"]),
                    ("c5", True, []), ("c6", False, ["chf"])]  # fmt: skip  (c5 is SNOMED-only)
    meds = gold_con.sql(
        "SELECT medication_event_id, event_type, code, is_active FROM g.gold.fct_medications "
        "ORDER BY medication_event_id"
    ).fetchall()
    assert meds == [("md1", "dispense", "68180-0517-01", True),
                    ("md2", "dispense", "860975", False),
                    ("mr1", "request", "860975", True), ("mr2", "request", "314076", True),
                    ("mr3", "request", "197361", False)]  # fmt: skip
    measures = gold_con.sql(
        "SELECT observation_id, measure FROM g.gold.fct_observations WHERE measure IS NOT NULL "
        "ORDER BY observation_id"
    ).fetchall()
    assert measures == [("o1#0", "bp_systolic"), ("o1#1", "bp_diastolic"),
                        ("o11", "glucose"), ("o12", "ldl"), ("o13", "egfr"),
                        ("o2#0", "bp_systolic"), ("o2#1", "bp_diastolic"), ("o3", "hba1c"),
                        ("o4", "hba1c"), ("o5", "hba1c"), ("o6", "heart_rate"), ("o7", "weight"),
                        ("o8", "bmi"), ("o9", "hba1c")]  # fmt: skip


def test_nothing_written_into_the_package(gold: GoldResult, tenant_root: Path) -> None:
    project = project_dir()
    assert not (project / "target").exists()
    assert not (project / "logs").exists()
    assert (tenant_root / "gold" / "_dbt" / "profiles.yml").is_file()
    assert (tenant_root / "gold" / "_dbt" / "target" / "run_results.json").is_file()
    profile = (tenant_root / "gold" / "_dbt" / "profiles.yml").read_text()
    assert '"autoinstall_known_extensions": false' in profile
    assert '"autoload_known_extensions": false' in profile


def test_missing_views_raise(tmp_path: Path) -> None:
    with pytest.raises(GoldBuildError) as err:
        run_gold(tmp_path)
    assert err.value.missing_views == ["patient", "encounter", "condition", "observation",
                                       "medication_request", "medication_dispense", "procedure",
                                       "immunization", "organization", "practitioner", "claim",
                                       "claim_line", "claim_version", "explanation_of_benefit",
                                       "eob_version", "eob_adjustment", "payment",
                                       "claim_response_version", "person", "person_xref",
                                       "coverage"]  # fmt: skip
    assert "write_views" in str(err.value)
