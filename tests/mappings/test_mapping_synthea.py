"""The shipped `synthea-csv` spec over Synthea's 27-patient CSV sample (../shared)."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import pytest
from mapping_helpers import read_table

from medlake.silver.mappings.delimited import MappedResource, MappingContext, load_spec, map_rows
from shared_data import shared_path

pytestmark = pytest.mark.shared

CTX = MappingContext("acme", "synthea", "urn:medlake:synthea", "America/New_York")
MAPPED = {
    "allergies.csv": ("AllergyIntolerance",),
    "careplans.csv": ("CarePlan",),
    "conditions.csv": ("Condition",),
    "devices.csv": ("Device",),
    "encounters.csv": ("Encounter",),
    "imaging_studies.csv": ("ImagingStudy",),
    "immunizations.csv": ("Immunization",),
    "medications.csv": ("MedicationRequest",),
    "observations.csv": ("Observation",),
    "organizations.csv": ("Organization",),
    "patients.csv": ("Patient",),
    "payer_transitions.csv": ("Coverage",),
    "payers.csv": ("Organization",),
    "procedures.csv": ("Procedure",),
    "providers.csv": ("Practitioner", "PractitionerRole"),
    "supplies.csv": ("SupplyDelivery",),
    "claims.csv": (),
    "claims_transactions.csv": (),
}


@pytest.fixture(scope="module")
def mapped() -> dict[str, list[MappedResource]]:
    folder: Path = shared_path("data", "synthea-csv")
    spec = load_spec("synthea-csv")
    out: dict[str, list[MappedResource]] = {}
    for path in sorted(folder.glob("*.csv")):
        kind = spec.kind_for(path.name)
        assert kind is not None, path.name
        result = map_rows(spec, kind, read_table(path), CTX)
        assert result.problems == [], (path.name, result.problems[:3])
        out[path.name] = result.resources
    return out


def test_every_file_has_a_kind_and_maps_to_its_types(
    mapped: dict[str, list[MappedResource]],
) -> None:
    assert set(mapped) == set(MAPPED)
    for name, types in MAPPED.items():
        assert tuple(sorted({r.resource_type for r in mapped[name]})) == tuple(sorted(types)), name


def test_patients_and_subjects(mapped: dict[str, list[MappedResource]]) -> None:
    patients = {r.id for r in mapped["patients.csv"]}
    assert len(patients) == 27
    for name in ("encounters.csv", "conditions.csv", "observations.csv", "medications.csv"):
        assert mapped[name]
        for r in mapped[name]:
            assert r.resource["subject"]["reference"] == f"Patient/{r.patient_id}"
            assert r.patient_id in patients, name
    for name in ("immunizations.csv", "allergies.csv", "procedures.csv", "payer_transitions.csv"):
        assert {r.patient_id for r in mapped[name]} <= patients, name


def test_ids_are_unique_per_type(mapped: dict[str, list[MappedResource]]) -> None:
    counts = Counter((r.resource_type, r.id) for rs in mapped.values() for r in rs)
    assert [k for k, n in counts.items() if n > 1] == []


def test_counts(mapped: dict[str, list[MappedResource]]) -> None:
    got = {name: len(rs) for name, rs in mapped.items()}
    assert got == {
        "allergies.csv": 40, "careplans.csv": 49, "claims.csv": 0, "claims_transactions.csv": 0,
        "conditions.csv": 438, "devices.csv": 3, "encounters.csv": 604, "imaging_studies.csv": 1,
        "immunizations.csv": 29, "medications.csv": 663, "observations.csv": 990,
        "organizations.csv": 63, "patients.csv": 27,
        "payer_transitions.csv": 800,  # 793 insured periods + 7 secondary payers; 258 uninsured
        "payers.csv": 10, "procedures.csv": 249, "providers.csv": 332, "supplies.csv": 72,
    }  # fmt: skip


def test_resources_validate_as_fhir(mapped: dict[str, list[MappedResource]]) -> None:
    pytest.importorskip("fhir.resources", reason="fhir.resources (dev extra) validates FHIR")
    by_type: dict[str, list[MappedResource]] = {}
    for rs in mapped.values():
        for r in rs:
            by_type.setdefault(r.resource_type, []).append(r)
    for rtype, rs in by_type.items():
        module = importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}")
        model = getattr(module, rtype)
        for r in rs[:: max(1, len(rs) // 40)]:  # a spread-out sample of each type
            model.model_validate(r.resource)


def test_patient_details(mapped: dict[str, list[MappedResource]]) -> None:
    first = mapped["patients.csv"][0].resource
    assert first["identifier"][2]["system"] == "http://hl7.org/fhir/sid/us-ssn"
    assert first["identifier"][2]["value"] == "999-17-5017"
    assert first["birthDate"] == "2014-10-06"
    assert first["address"][0]["district"] == "Middlesex County"
    race = first["extension"][0]
    assert race["url"] == "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
    assert race["extension"][0]["valueCoding"]["code"] == "2106-3"
    assert race["extension"][1] == {"url": "text", "valueString": "white"}


def test_observation_values(mapped: dict[str, list[MappedResource]]) -> None:
    obs = [r.resource for r in mapped["observations.csv"]]
    quantities = [o for o in obs if "valueQuantity" in o]
    strings = [o for o in obs if "valueString" in o]
    assert (len(quantities), len(strings)) == (599, 391)
    assert quantities[0]["valueQuantity"] == {
        "value": 127.9, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm",
    }  # fmt: skip
