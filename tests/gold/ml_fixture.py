"""Hand-built gold staging tables for the ML tests (no dbt run needed).

Where it came from: written by hand for these tests; the tables have the columns of the gold
staging views (`gold_staging.stg__*`) that `medlake.ml.features` reads, and `gold_ref.
observation_measures` is the shipped seed file. Ids are readable (`p1`, `e1`, …).
"""

from __future__ import annotations

import csv
from typing import Any

from medlake.gold.runner import project_dir

TABLES: dict[str, str] = {
    "stg__patient": "patient_id varchar, birth_date date, gender varchar, deceased_at timestamptz",
    "stg__person_xref": "patient_id varchar, person_id varchar",
    "stg__encounter": "encounter_id varchar, patient_id varchar, status varchar, class_code varchar, "
    "period_start timestamptz, period_end timestamptz, discharge_disposition varchar",
    "stg__condition": "condition_id varchar, patient_id varchar, code varchar, code_system varchar, "
    "source_code varchar, source_code_system varchar, verification_status varchar, "
    "onset_at timestamptz, recorded_at timestamptz",
    "stg__observation": "observation_id varchar, patient_id varchar, status varchar, code varchar, "
    "code_system varchar, effective_at timestamptz, value_number double",
    "stg__medication_dispense": "medication_dispense_id varchar, patient_id varchar, status varchar, "
    "code varchar, ndc varchar, source_code varchar, handed_over_at timestamptz, days_supply double",
}
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"


def create_inputs(con: Any) -> None:
    """Empty staging tables and the observation_measures seed."""
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema if not exists gold_staging")
    con.execute("create schema if not exists gold_ref")
    for name, cols in TABLES.items():
        con.execute(f"create or replace table gold_staging.{name} ({cols})")
    con.execute("create or replace table gold_ref.observation_measures (measure varchar, loinc_code varchar)")
    with open(project_dir() / "seeds" / "observation_measures.csv", encoding="utf-8") as f:
        rows = [(r["measure"], r["loinc_code"]) for r in csv.DictReader(f)]
    con.executemany("insert into gold_ref.observation_measures values (?, ?)", rows)


def insert(con: Any, table: str, *rows: tuple[Any, ...]) -> None:
    """Insert rows (in column order) into gold_staging.<table>."""
    width = len(TABLES[table].split(", "))
    marks = ", ".join("?" * width)
    con.executemany(f"insert into gold_staging.{table} values ({marks})", [list(r) for r in rows])
