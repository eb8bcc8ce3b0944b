"""Real third-party data end to end: Synthea FHIR bundles (three generator versions) and Synthea CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_helpers import dangling_references, query, silver_resources, write_config

from medlake.pipeline import run
from shared_data import shared_path

pytestmark = pytest.mark.shared


def test_synthea_fhir_three_folders_give_43_patients_and_no_dangling_references(tmp_path: Path) -> None:
    root = shared_path("data", "synthea-fhir-r4")
    project = write_config(
        tmp_path,
        f"""
lake: ./lake
tenants:
  - name: t
    sources:
      - {{name: pipes, kind: fhir, location: "{root / 'fhir-data-pipes-synthea-hiv'}/**/*.json"}}
      - {{name: pathling, kind: fhir, location: "{root / 'pathling-synthea-v3.0.0'}/*.json"}}
      - {{name: smart, kind: fhir, location: "{root / 'smart-generated-sample-data-r4'}/*.json"}}
""",
    )
    run(project, "t")
    resources = silver_resources(project, "t")
    patients = [r for r in resources if r[0] == "Patient"]
    assert len(patients) == 43
    assert len({r[1] for r in patients}) == 43
    assert dangling_references(resources) == []
    # every resource about a patient points at one of the 43
    pids = {r[1] for r in patients}
    rows = query(project, "t", "select count(*), count(patient_id) from silver.observation")
    assert rows[0][0] > 1000 and rows[0][0] == rows[0][1]
    orphans = query(project, "t", "select distinct patient_id from silver.observation")
    assert {r[0] for r in orphans} <= pids
    # bronze kept every resource as-is, with lineage
    b = query(project, "t", "select count(*), count(distinct _object_sha256) from bronze.pipes__resources")
    assert b[0][1] == 19  # 17 patient bundles + hospital + practitioner bundles
    # views and gold over real Synthea shapes: one Patient 360 row per patient, vitals found
    assert query(project, "t", "select count(*) from gold.patient_360") == [(43,)]
    with_bp = query(project, "t", "select count(distinct patient_id) from views.observation where code = '8480-6'")
    assert with_bp[0][0] > 20
    assert query(project, "t", "select count(*) from gold.patient_360 where bp_systolic_value between 40 and 260") == with_bp
    assert query(project, "t", "select count(*) from views.observation where value_number is not null")[0][0] > 1000
    # nothing was quarantined
    has_q = query(project, "t", "select count(*) from duckdb_views() where schema_name = 'meta' and view_name = 'quarantine'")
    if has_q == [(1,)]:
        assert query(project, "t", "select reason from meta.quarantine limit 5") == []


def test_synthea_csv_through_the_shipped_spec(tmp_path: Path) -> None:
    root = shared_path("data", "synthea-csv")
    project = write_config(
        tmp_path,
        f"""
lake: ./lake
tenants:
  - name: t
    sources:
      - {{name: synthea, kind: delimited, location: "{root}/*.csv", mapping: synthea-csv, timezone: UTC}}
""",
    )
    run(project, "t", ("land", "bronze", "silver"))
    counts = dict(query(project, "t", "select resource_type, count(*) from ("
                        "select resource_type from silver.patient union all select resource_type from silver.encounter "
                        "union all select resource_type from silver.condition union all select resource_type from silver.observation "
                        "union all select resource_type from silver.medication_request) group by 1"))
    assert counts["Patient"] == 27
    for rtype in ("Encounter", "Condition", "Observation", "MedicationRequest"):
        assert counts[rtype] > 0, rtype
    assert dangling_references([r for r in silver_resources(project, "t") if r[0] != "Claim"]) == []
    lines = sum(1 for _ in (root / "encounters.csv").open()) - 1
    assert query(project, "t", "select count(*) from bronze.synthea__encounters") == [(lines,)]
