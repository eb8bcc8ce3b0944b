"""The flat views over the hand-written silver fixture (gold_silver_fixture.py).

Every expected row below was worked out by hand from the fixture resources: which coding is
preferred, how instants with offsets land in UTC, which name/address/identifier is picked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from gold_silver_fixture import register_silver, write_silver

from medlake.errors import ConfigError
from medlake.silver.views import flat

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
CVX = "http://hl7.org/fhir/sid/cvx"


def T(text: str) -> datetime:
    """A UTC instant from `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows(con: duckdb.DuckDBPyConnection, view: str, columns: list[str]) -> list[tuple[Any, ...]]:
    table = flat.materialize(con, view)
    return sorted(
        (tuple(r[c] for c in columns) for r in table.to_pylist()), key=lambda t: str(t[0])
    )


def test_patient(silver_con: duckdb.DuckDBPyConnection) -> None:
    cols = ["id", "source", "source_system", "source_id", "mrn", "family_name", "given_name",
            "birth_date", "deceased", "deceased_at", "gender", "address_line", "city", "state",
            "postal_code", "phone", "email", "race", "race_code", "ethnicity", "ethnicity_code"]  # fmt: skip
    assert rows(silver_con, "patient", cols) == [
        # official name (not the maiden one), home address (not work), MR identifier
        ("p1", "ehr", "urn:medlake:ehr", "P1", "MRN-0001", "Doe", "Jane Q", date(1960, 5, 1),
         False, None, "female", "12 Elm St, Apt 3", "Boston", "MA", "02118", "555-0101",
         "jane@example.org", "White", "2106-3", "Not Hispanic or Latino", "2186-5"),
        # no MR: the identifier whose system is the source system; -04:00 offset -> UTC
        ("p2", "clinic", "urn:medlake:clinic", "P2", "C-0002", "Roe", "John", date(1975, 11, 20),
         True, T("2024-07-01T12:00"), "male", "9 Oak Ave", "Worcester", "MA", "01601",
         "555-0202", None, None, None, None, None),
        # birthDate "1990" is only a year: no DATE
        ("p3", "ehr", "urn:medlake:ehr", "P3", None, "Poe", "Alex", None, False, None, "unknown",
         None, None, None, None, None, None, None, None, None, None),
    ]  # fmt: skip


def test_encounter(silver_con: duckdb.DuckDBPyConnection) -> None:
    cols = ["id", "patient_id", "source", "status", "class_code", "type_code", "type_display",
            "period_start", "period_end", "reason_code", "reason_system", "discharge_disposition",
            "service_provider_id", "practitioner_id"]  # fmt: skip
    assert rows(silver_con, "encounter", cols) == [
        ("e1", "p1", "ehr", "finished", "AMB", "185349003", "Encounter for check up",
         T("2024-06-30T12:00"), T("2024-06-30T13:00"), None, None, None, "o1", "pr1"),
        ("e2", "p1", "ehr", "finished", "EMER", "50849002", "Emergency room admission",
         T("2024-01-10T08:00"), T("2024-01-10T09:30"), "29857009", SNOMED, None, None, None),
        # the first participant is a RelatedPerson: practitioner_id is the second
        ("e3", "p1", "ehr", "finished", "IMP", None, None,
         T("2023-09-01T10:00"), T("2023-09-05T15:00"), None, None, "01", "o1", "pr1"),
        ("e4", "p1", "ehr", "finished", "IMP", None, None,
         T("2023-03-01T10:00"), T("2023-03-03T10:00"), None, None, None, None, None),
        ("e5", "p2", "clinic", "finished", "EMER", None, None,
         T("2023-07-15T00:00"), T("2023-07-15T04:00"), None, None, None, None, None),
        ("e6", "p2", "clinic", "finished", "AMB", None, None,
         T("2022-12-01T15:00"), T("2022-12-01T15:30"), None, None, None, None, None),
    ]  # fmt: skip


def test_condition_prefers_icd10_and_keeps_source_coding(
    silver_con: duckdb.DuckDBPyConnection,
) -> None:
    cols = ["id", "patient_id", "encounter_id", "code", "code_system", "source_code",
            "source_code_system", "clinical_status", "verification_status", "category",
            "onset_at", "abatement_at", "recorded_at"]  # fmt: skip
    assert rows(silver_con, "condition", cols) == [
        ("c1", "p1", "e3", "E11.9", ICD10, "E11.9", ICD10, "active", None, "problem-list-item",
         T("2023-09-01T00:00"), None, T("2023-09-01T11:00")),
        # SNOMED first, ICD-10 second: ICD-10 preferred, SNOMED kept as the source coding
        ("c2", "p1", None, "I10", ICD10, "59621000", SNOMED, "active", None, None,
         None, None, T("2023-09-02T07:00")),
        # "2015-06" (year-month) -> first day of the month, midnight UTC
        ("c3", "p2", None, "250.00", ICD9, "250.00", ICD9, "active", None, None,
         T("2015-06-01T00:00"), None, None),
        ("c4", "p1", None, "J45.909", ICD10, "J45.909", ICD10, "resolved", None, None,
         T("2010-01-01T00:00"), T("2012-02-03T00:00"), None),
        ("c5", "p2", None, "13645005", SNOMED, "13645005", SNOMED, "active", None, None,
         None, None, None),
        ("c6", "p2", None, "I50.9", ICD10, "I50.9", ICD10, None, "entered-in-error", None,
         None, None, None),
    ]  # fmt: skip


def test_observation_rows_and_components(silver_con: duckdb.DuckDBPyConnection) -> None:
    cols = ["id", "parent_id", "patient_id", "encounter_id", "source", "status", "category",
            "code", "source_code", "effective_at", "value_number", "value_unit", "value_string",
            "value_code"]  # fmt: skip
    assert rows(silver_con, "observation", cols) == [
        ("o1", None, "p1", "e1", "ehr", "final", "vital-signs", "85354-9", "85354-9",
         T("2024-06-30T12:00"), None, None, None, None),
        ("o1#0", "o1", "p1", "e1", "ehr", "final", "vital-signs", "8480-6", "8480-6",
         T("2024-06-30T12:00"), 128.0, "mm[Hg]", None, None),
        ("o1#1", "o1", "p1", "e1", "ehr", "final", "vital-signs", "8462-4", "8462-4",
         T("2024-06-30T12:00"), 82.0, "mm[Hg]", None, None),
        ("o10", None, "p2", None, "clinic", "final", "social-history", "72166-2", "72166-2",
         T("2023-08-01T10:00"), None, None, None, "8517006"),
        ("o11", None, "p2", None, "clinic", "final", "laboratory", "2345-7", "2345-7",
         T("2023-08-01T10:00"), 110.0, "mg/dL", None, None),
        ("o12", None, "p2", None, "clinic", "final", "laboratory", "18262-6", "18262-6",
         T("2023-08-01T10:00"), 130.0, "mg/dL", None, None),
        ("o13", None, "p1", None, "lab", "final", "laboratory", "33914-3", "33914-3",
         T("2024-03-15T09:00"), 58.0, "mL/min/{1.73_m2}", None, None),
        ("o14", None, "p1", None, "lab", "final", "laboratory", "5778-6", "5778-6",
         T("2024-03-15T09:00"), None, None, "Yellow", None),
        ("o2", None, "p1", "e3", "ehr", "final", "vital-signs", "85354-9", "85354-9",
         T("2023-09-02T08:00"), None, None, None, None),
        ("o2#0", "o2", "p1", "e3", "ehr", "final", "vital-signs", "8480-6", "8480-6",
         T("2023-09-02T08:00"), 140.0, "mm[Hg]", None, None),
        ("o2#1", "o2", "p1", "e3", "ehr", "final", "vital-signs", "8462-4", "8462-4",
         T("2023-09-02T08:00"), 90.0, "mm[Hg]", None, None),
        ("o3", None, "p1", None, "lab", "final", "laboratory", "4548-4", "4548-4",
         T("2024-03-15T09:00"), 7.2, "%", None, None),
        ("o4", None, "p1", "e3", "ehr", "final", "laboratory", "4548-4", "4548-4",
         T("2023-09-02T08:00"), 8.1, "%", None, None),
        # +02:00 -> the previous day in UTC
        ("o5", None, "p1", None, "ehr", "entered-in-error", "laboratory", "4548-4", "4548-4",
         T("2024-04-30T22:00"), 6.9, "%", None, None),
        ("o6", None, "p1", "e1", "ehr", "final", "vital-signs", "8867-4", "8867-4",
         T("2024-06-30T12:00"), 72.0, "/min", None, None),
        ("o7", None, "p1", None, "ehr", "final", "vital-signs", "29463-7", "29463-7",
         T("2024-06-30T12:00"), 80.5, "kg", None, None),
        ("o8", None, "p1", None, "ehr", "final", "vital-signs", "39156-5", "39156-5",
         T("2024-06-30T12:00"), 27.3, "kg/m2", None, None),
        # local code first, LOINC second: LOINC preferred, local code kept as source
        ("o9", None, "p2", None, "clinic", "final", "laboratory", "4548-4", "HBA1C",
         T("2023-08-01T10:00"), 6.4, "%", None, None),
    ]  # fmt: skip


def test_medication_request(silver_con: duckdb.DuckDBPyConnection) -> None:
    cols = ["id", "patient_id", "encounter_id", "status", "code", "code_system", "code_display",
            "source_code", "authored_at", "requester_id", "quantity", "days_supply", "refills"]  # fmt: skip
    assert rows(silver_con, "medication_request", cols) == [
        ("mr1", "p1", "e3", "active", "860975", RXNORM,
         "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "860975",
         T("2023-09-05T15:00"), "pr1", 30.0, 30.0, 3),
        ("mr2", "p1", None, "active", "314076", RXNORM, "lisinopril 10 MG Oral Tablet", "LIS10",
         T("2024-01-10T00:00"), None, None, None, None),
        # medicationReference "#m1" resolved to the contained Medication
        ("mr3", "p2", "e5", "stopped", "197361", RXNORM, "amlodipine 5 MG Oral Tablet", "197361",
         T("2023-07-15T01:00"), None, None, None, None),
    ]  # fmt: skip


def test_medication_dispense(silver_con: duckdb.DuckDBPyConnection) -> None:
    cols = ["id", "patient_id", "status", "code", "code_system", "ndc", "source_code",
            "quantity", "days_supply", "prepared_at", "handed_over_at", "prescription_id"]  # fmt: skip
    assert rows(silver_con, "medication_dispense", cols) == [
        ("md1", "p2", "completed", "68180-0517-01", NDC, "68180-0517-01", "68180-0517-01",
         60.0, 30.0, None, T("2024-06-15T16:00"), None),
        # NDC first, RxNorm second: RxNorm preferred, NDC kept in `ndc` and as source
        ("md2", "p1", "completed", "860975", RXNORM, "68180-0517-01", "68180-0517-01",
         30.0, 30.0, T("2024-02-01T10:00"), T("2024-02-01T17:00"), "mr1"),
    ]  # fmt: skip


def test_procedure_immunization_allergy(silver_con: duckdb.DuckDBPyConnection) -> None:
    assert rows(silver_con, "procedure", ["id", "encounter_id", "code", "code_system",
                                          "source_code", "performed_at", "performed_end_at"]) == [
        ("pr-1", "e3", "45378", "http://www.ama-assn.org/go/cpt", "73761001",
         T("2023-09-03T08:00"), T("2023-09-03T09:00")),
    ]  # fmt: skip
    assert rows(silver_con, "immunization", ["id", "patient_id", "encounter_id", "vaccine_code",
                                             "vaccine_system", "source_code", "occurrence_at",
                                             "primary_source"]) == [
        ("im1", "p1", "e1", "140", CVX, "140", T("2023-10-01T14:00"), True),
        ("im2", "p2", None, "208", CVX, "COVID", T("2021-04-01T00:00"), None),
    ]  # fmt: skip
    assert rows(silver_con, "allergy_intolerance", ["id", "patient_id", "clinical_status",
                                                    "verification_status", "type", "category",
                                                    "criticality", "code", "code_system",
                                                    "code_text", "reaction_code",
                                                    "reaction_severity", "recorded_at"]) == [
        ("al1", "p1", "active", "confirmed", "allergy", "medication", "high", "7980", RXNORM,
         "penicillin", "271807003", "mild", T("2020-02-02T10:00")),
    ]  # fmt: skip


def test_coverage_practitioner_organization(silver_con: duckdb.DuckDBPyConnection) -> None:
    assert rows(silver_con, "coverage", ["id", "patient_id", "status", "type_code", "subscriber_id",
                                         "member_id", "relationship", "period_start", "period_end",
                                         "payor_id", "payor_name", "group_value", "plan_value",
                                         "plan_name"]) == [
        ("cv1", "p1", "active", "PPO", "S-1", "M-123", "self", T("2023-01-01T00:00"), None,
         "pay1", "Acme Health", "G-7", "gold", "Acme Gold"),
    ]  # fmt: skip
    assert rows(silver_con, "practitioner", ["id", "npi", "family_name", "given_name", "prefix",
                                             "gender", "active", "phone", "email", "city"]) == [
        ("pr1", "1234567893", "Bone", "Ronald", "Dr.", "male", True, None, "rbone@example.org",
         "Boston"),
    ]  # fmt: skip
    assert rows(silver_con, "organization", ["id", "npi", "name", "active", "type_code", "phone",
                                             "address_line", "postal_code"]) == [
        ("o1", "1999999984", "General Hospital", True, "prov", "555-0300", "1 Hospital Rd",
         "02115"),
    ]  # fmt: skip


def test_types_are_typed(silver_con: duckdb.DuckDBPyConnection) -> None:
    patient = flat.materialize(silver_con, "patient").schema
    assert patient.field("birth_date").type == pa.date32()
    assert patient.field("deceased_at").type == pa.timestamp("us", tz="UTC")
    obs = flat.materialize(silver_con, "observation").schema
    assert obs.field("value_number").type == pa.float64()
    assert obs.field("effective_at").type == pa.timestamp("us", tz="UTC")


def test_views_work_without_silver_tables(tmp_path: Path) -> None:
    """Only Patient has a silver table: every other view runs and is empty, typed as usual."""
    write_silver(tmp_path, types=["Patient"])
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    register_silver(con, tmp_path)
    created = flat.ensure_silver_tables(con)
    assert "patient" not in created
    assert set(created) == {flat.required_tables(v)[0] for v in flat.VIEWS} - {"patient"}
    assert flat.materialize(con, "patient").num_rows == 3
    obs = flat.materialize(con, "observation")
    assert obs.num_rows == 0
    assert obs.schema.field("value_number").type == pa.float64()
    counts = flat.write_views(con, tmp_path / "views")
    assert counts["observation"] == 0 and counts["patient"] == 3
    assert (tmp_path / "views" / "observation" / "_delta_log").is_dir()


def test_view_api() -> None:
    assert flat.VIEWS[:2] == ("patient", "encounter")
    assert flat.required_tables("medication_request") == ["medication_request"]
    assert flat.required_tables("allergy_intolerance") == ["allergy_intolerance"]
    assert flat.view_sql("observation").lstrip().startswith("-- view: observation")
    with pytest.raises(ConfigError) as err:
        flat.view_sql("observations")
    assert str(err.value) == (
        "`observations` is not a flat view; the views are: "
        + ", ".join(flat.VIEWS)
        + ". Did you mean `observation`?"
    )
