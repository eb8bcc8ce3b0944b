"""A small, hand-written silver lake for the flat-view and gold tests.

Where it came from: written by hand for these tests (no real or generated person); shapes
follow Synthea v3 bundles and the US Core examples (BP panel with components, contained
Medication, race/ethnicity extensions). Ids are readable (`p1`, `e1`, …) instead of UUIDv5 so
expected rows can be worked out by hand.

Four source systems: `ehr` (urn:medlake:ehr), `clinic` (urn:medlake:clinic), `lab`
(urn:medlake:lab) and `pharmacy` (urn:medlake:pharmacy). The latest clinical time in the data
is 2024-06-30T12:00:00Z (encounter e1 and its vitals), so the 12-month window of
patient_360 is (2023-06-30T12:00Z, 2024-06-30T12:00Z].
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from medlake.silver.schema import CURRENT_SCHEMA, table_name

SYSTEMS = {
    "ehr": "urn:medlake:ehr",
    "clinic": "urn:medlake:clinic",
    "lab": "urn:medlake:lab",
    "pharmacy": "urn:medlake:pharmacy",
}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
CVX = "http://hl7.org/fhir/sid/cvx"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
UCUM = "http://unitsofmeasure.org"
LAST_UPDATED = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)


def cc(*codings: tuple[str, str, str], text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept from (system, code, display) triples."""
    out: dict[str, Any] = {
        "coding": [{"system": s, "code": c, "display": d} for s, c, d in codings]
    }
    if text:
        out["text"] = text
    return out


def qty(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def status_cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}


RACE_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
ETH_URL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
OMB = "urn:oid:2.16.840.1.113883.6.238"

PATIENTS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Patient",
            "id": "p1",
            "extension": [
                {
                    "url": RACE_URL,
                    "extension": [
                        {
                            "url": "ombCategory",
                            "valueCoding": {"system": OMB, "code": "2106-3", "display": "White"},
                        },
                        {"url": "text", "valueString": "White"},
                    ],
                },
                {
                    "url": ETH_URL,
                    "extension": [
                        {
                            "url": "ombCategory",
                            "valueCoding": {
                                "system": OMB,
                                "code": "2186-5",
                                "display": "Not Hispanic or Latino",
                            },
                        },
                    ],
                },
            ],
            "identifier": [
                {"system": "urn:medlake:ehr:person", "value": "PERS-1"},
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ]
                    },
                    "system": "urn:medlake:ehr:mrn",
                    "value": "MRN-0001",
                },
            ],
            "name": [
                {"use": "maiden", "family": "Early", "given": ["Jane"]},
                {"use": "official", "family": "Doe", "given": ["Jane", "Q"]},
            ],
            "telecom": [
                {"system": "email", "value": "jane@example.org"},
                {"system": "phone", "value": "555-0101", "use": "home"},
            ],
            "gender": "female",
            "birthDate": "1960-05-01",
            "address": [
                {
                    "use": "work",
                    "line": ["1 Work Plaza"],
                    "city": "Workton",
                    "state": "MA",
                    "postalCode": "02000",
                },
                {
                    "use": "home",
                    "line": ["12 Elm St", "Apt 3"],
                    "city": "Boston",
                    "state": "MA",
                    "postalCode": "02118",
                },
            ],
        },
    ),
    (
        "clinic",
        {
            "resourceType": "Patient",
            "id": "p2",
            "identifier": [
                {"system": "urn:medlake:clinic:other", "value": "X-9"},
                {"system": "urn:medlake:clinic", "value": "C-0002"},
            ],
            "name": [{"family": "Roe", "given": ["John"]}],
            "telecom": [{"system": "phone", "value": "555-0202"}],
            "gender": "male",
            "birthDate": "1975-11-20",
            "deceasedDateTime": "2024-07-01T08:00:00-04:00",
            "address": [
                {"line": ["9 Oak Ave"], "city": "Worcester", "state": "MA", "postalCode": "01601"}
            ],
        },
    ),
    (
        "ehr",
        {
            "resourceType": "Patient",
            "id": "p3",
            "name": [{"family": "Poe", "given": ["Alex"]}],
            "gender": "unknown",
            "birthDate": "1990",
            "deceasedBoolean": False,
        },
    ),
]


def encounter(eid: str, pid: str, cls: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": ACT, "code": cls},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": start, "end": end},
        **extra,
    }


ENCOUNTERS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        encounter(
            "e1",
            "p1",
            "AMB",
            "2024-06-30T12:00:00Z",
            "2024-06-30T13:00:00Z",
            type=[cc((SNOMED, "185349003", "Encounter for check up"))],
            participant=[{"individual": {"reference": "Practitioner/pr1"}}],
            serviceProvider={"reference": "Organization/o1"},
        ),
    ),
    (
        "ehr",
        encounter(
            "e2",
            "p1",
            "EMER",
            "2024-01-10T03:00:00-05:00",
            "2024-01-10T09:30:00Z",
            type=[cc((SNOMED, "50849002", "Emergency room admission"))],
            reasonCode=[cc((SNOMED, "29857009", "Chest pain"))],
        ),
    ),
    (
        "ehr",
        encounter(
            "e3",
            "p1",
            "IMP",
            "2023-09-01T10:00:00Z",
            "2023-09-05T15:00:00Z",
            hospitalization={
                "dischargeDisposition": {
                    "coding": [
                        {
                            "system": "https://www.nubc.org/CodeSystem/PatDischargeStatus",
                            "code": "01",
                        }
                    ]
                }
            },
            participant=[
                {"individual": {"reference": "RelatedPerson/rp1"}},
                {"individual": {"reference": "Practitioner/pr1"}},
            ],
            serviceProvider={"reference": "Organization/o1"},
        ),
    ),
    ("ehr", encounter("e4", "p1", "IMP", "2023-03-01T10:00:00Z", "2023-03-03T10:00:00Z")),
    ("clinic", encounter("e5", "p2", "EMER", "2023-07-15T00:00:00Z", "2023-07-15T04:00:00Z")),
    ("clinic", encounter("e6", "p2", "AMB", "2022-12-01T15:00:00Z", "2022-12-01T15:30:00Z")),
]


def condition(
    cid: str, pid: str, code: dict[str, Any], clinical: str | None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": code,
    }
    if clinical:
        out["clinicalStatus"] = status_cc("condition-clinical", clinical)
    out.update(extra)
    return out


CONDITIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        condition(
            "c1",
            "p1",
            cc((ICD10, "E11.9", "Type 2 diabetes mellitus without complications")),
            "active",
            encounter={"reference": "Encounter/e3"},
            category=[
                cc(
                    (
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item",
                        "Problem List Item",
                    )
                )
            ],
            onsetDateTime="2023-09-01",
            recordedDate="2023-09-01T11:00:00Z",
        ),
    ),
    (
        "ehr",
        condition(
            "c2",
            "p1",
            cc(
                (SNOMED, "59621000", "Essential hypertension"),
                (ICD10, "I10", "Essential (primary) hypertension"),
            ),
            "active",
            recordedDate="2023-09-02T09:00:00+02:00",
        ),
    ),
    (
        "clinic",
        condition(
            "c3",
            "p2",
            cc((ICD9, "250.00", "Diabetes mellitus without mention of complication")),
            "active",
            onsetDateTime="2015-06",
        ),
    ),
    (
        "ehr",
        condition(
            "c4",
            "p1",
            cc((ICD10, "J45.909", "Unspecified asthma, uncomplicated")),
            "resolved",
            onsetDateTime="2010-01-01",
            abatementDateTime="2012-02-03",
        ),
    ),
    (
        "clinic",
        condition(
            "c5", "p2", cc((SNOMED, "13645005", "Chronic obstructive lung disease")), "active"
        ),
    ),
    (
        "clinic",
        condition(
            "c6",
            "p2",
            cc((ICD10, "I50.9", "Heart failure, unspecified")),
            None,
            verificationStatus=status_cc("condition-ver-status", "entered-in-error"),
        ),
    ),
]


def observation(
    oid: str, pid: str, code: dict[str, Any], when: str, **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": extra.pop("status", "final"),
        "code": code,
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        **extra,
    }


VITAL = [
    cc(("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "vital-signs"))
]
LAB = [
    cc(("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "laboratory"))
]


def bp(oid: str, pid: str, when: str, sys_: float, dia: float, enc: str) -> dict[str, Any]:
    return observation(
        oid,
        pid,
        cc((LOINC, "85354-9", "Blood pressure panel")),
        when,
        category=VITAL,
        encounter={"reference": f"Encounter/{enc}"},
        component=[
            {
                "code": cc((LOINC, "8480-6", "Systolic blood pressure")),
                "valueQuantity": qty(sys_, "mm[Hg]"),
            },
            {
                "code": cc((LOINC, "8462-4", "Diastolic blood pressure")),
                "valueQuantity": qty(dia, "mm[Hg]"),
            },
        ],
    )


OBSERVATIONS: list[tuple[str, dict[str, Any]]] = [
    ("ehr", bp("o1", "p1", "2024-06-30T12:00:00Z", 128, 82, "e1")),
    ("ehr", bp("o2", "p1", "2023-09-02T08:00:00Z", 140, 90, "e3")),
    (
        "lab",
        observation(
            "o3",
            "p1",
            cc((LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")),
            "2024-03-15T09:00:00Z",
            category=LAB,
            valueQuantity=qty(7.2, "%"),
        ),
    ),
    (
        "ehr",
        observation(
            "o4",
            "p1",
            cc((LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")),
            "2023-09-02T08:00:00Z",
            category=LAB,
            valueQuantity=qty(8.1, "%"),
            encounter={"reference": "Encounter/e3"},
        ),
    ),
    (
        "ehr",
        observation(
            "o5",
            "p1",
            cc((LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood")),
            "2024-05-01T00:00:00+02:00",
            category=LAB,
            valueQuantity=qty(6.9, "%"),
            status="entered-in-error",
        ),
    ),
    (
        "ehr",
        observation(
            "o6",
            "p1",
            cc((LOINC, "8867-4", "Heart rate")),
            "2024-06-30T12:00:00Z",
            category=VITAL,
            valueQuantity=qty(72, "/min"),
            encounter={"reference": "Encounter/e1"},
        ),
    ),
    (
        "ehr",
        observation(
            "o7",
            "p1",
            cc((LOINC, "29463-7", "Body weight")),
            "2024-06-30T12:00:00Z",
            category=VITAL,
            valueQuantity=qty(80.5, "kg"),
        ),
    ),
    (
        "ehr",
        observation(
            "o8",
            "p1",
            cc((LOINC, "39156-5", "Body mass index")),
            "2024-06-30T12:00:00Z",
            category=VITAL,
            valueQuantity=qty(27.3, "kg/m2"),
        ),
    ),
    (
        "clinic",
        observation(
            "o9",
            "p2",
            cc(
                ("urn:medlake:clinic:lab", "HBA1C", "A1C"),
                (LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
            ),
            "2023-08-01T10:00:00Z",
            category=LAB,
            valueQuantity=qty(6.4, "%"),
        ),
    ),
    (
        "clinic",
        observation(
            "o10",
            "p2",
            cc((LOINC, "72166-2", "Tobacco smoking status")),
            "2023-08-01T10:00:00Z",
            category=[
                cc(
                    (
                        "http://terminology.hl7.org/CodeSystem/observation-category",
                        "social-history",
                        "Social History",
                    )
                )
            ],
            valueCodeableConcept=cc((SNOMED, "8517006", "Former smoker")),
        ),
    ),
    (
        "clinic",
        observation(
            "o11",
            "p2",
            cc((LOINC, "2345-7", "Glucose [Mass/volume] in Serum or Plasma")),
            "2023-08-01T10:00:00Z",
            category=LAB,
            valueQuantity=qty(110, "mg/dL"),
        ),
    ),
    (
        "clinic",
        observation(
            "o12",
            "p2",
            cc((LOINC, "18262-6", "LDL Cholesterol")),
            "2023-08-01T10:00:00Z",
            category=LAB,
            valueQuantity=qty(130, "mg/dL"),
        ),
    ),
    (
        "lab",
        observation(
            "o13",
            "p1",
            cc((LOINC, "33914-3", "eGFR")),
            "2024-03-15T09:00:00Z",
            category=LAB,
            valueQuantity=qty(58, "mL/min/{1.73_m2}"),
        ),
    ),
    (
        "lab",
        observation(
            "o14",
            "p1",
            cc((LOINC, "5778-6", "Color of Urine")),
            "2024-03-15T09:00:00Z",
            category=LAB,
            valueString="Yellow",
        ),
    ),
]

MEDICATION_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "MedicationRequest",
            "id": "mr1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": cc(
                (
                    RXNORM,
                    "860975",
                    "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
                )
            ),
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e3"},
            "authoredOn": "2023-09-05T15:00:00Z",
            "requester": {"reference": "Practitioner/pr1"},
            "dosageInstruction": [{"text": "1 tablet daily"}],
            "dispenseRequest": {
                "numberOfRepeatsAllowed": 3,
                "quantity": {"value": 30},
                "expectedSupplyDuration": {"value": 30, "unit": "days"},
            },
        },
    ),
    (
        "ehr",
        {
            "resourceType": "MedicationRequest",
            "id": "mr2",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": cc(
                ("urn:medlake:ehr:drug", "LIS10", "Lisinopril 10mg"),
                (RXNORM, "314076", "lisinopril 10 MG Oral Tablet"),
            ),
            "subject": {"reference": "Patient/p1"},
            "authoredOn": "2024-01-10",
        },
    ),
    (
        "clinic",
        {
            "resourceType": "MedicationRequest",
            "id": "mr3",
            "status": "stopped",
            "intent": "order",
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "m1",
                    "code": cc((RXNORM, "197361", "amlodipine 5 MG Oral Tablet")),
                }
            ],
            "medicationReference": {"reference": "#m1"},
            "subject": {"reference": "Patient/p2"},
            "encounter": {"reference": "Encounter/e5"},
            "authoredOn": "2023-07-15T01:00:00Z",
        },
    ),
]

MEDICATION_DISPENSES: list[tuple[str, dict[str, Any]]] = [
    (
        "pharmacy",
        {
            "resourceType": "MedicationDispense",
            "id": "md1",
            "status": "completed",
            "medicationCodeableConcept": cc((NDC, "68180-0517-01", "Metformin 500 mg tablet")),
            "subject": {"reference": "Patient/p2"},
            "quantity": {"value": 60, "unit": "tablet"},
            "daysSupply": {"value": 30, "unit": "days"},
            "whenHandedOver": "2024-06-15T16:00:00Z",
        },
    ),
    (
        "pharmacy",
        {
            "resourceType": "MedicationDispense",
            "id": "md2",
            "status": "completed",
            "medicationCodeableConcept": cc(
                (NDC, "68180-0517-01", "Metformin 500 mg tablet"),
                (
                    RXNORM,
                    "860975",
                    "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
                ),
            ),
            "subject": {"reference": "Patient/p1"},
            "authorizingPrescription": [{"reference": "MedicationRequest/mr1"}],
            "quantity": {"value": 30, "unit": "tablet"},
            "daysSupply": {"value": 30, "unit": "days"},
            "whenPrepared": "2024-02-01T10:00:00Z",
            "whenHandedOver": "2024-02-01T12:00:00-05:00",
        },
    ),
]

PROCEDURES: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Procedure",
            "id": "pr-1",
            "status": "completed",
            "code": cc(
                (SNOMED, "73761001", "Colonoscopy"),
                ("http://www.ama-assn.org/go/cpt", "45378", "Colonoscopy, diagnostic"),
            ),
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e3"},
            "performedPeriod": {"start": "2023-09-03T08:00:00Z", "end": "2023-09-03T09:00:00Z"},
        },
    ),
]

IMMUNIZATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Immunization",
            "id": "im1",
            "status": "completed",
            "vaccineCode": cc((CVX, "140", "Influenza, seasonal, injectable, preservative free")),
            "patient": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "occurrenceDateTime": "2023-10-01T14:00:00Z",
            "primarySource": True,
        },
    ),
    (
        "clinic",
        {
            "resourceType": "Immunization",
            "id": "im2",
            "status": "completed",
            "vaccineCode": cc(
                ("urn:medlake:clinic:vax", "COVID", "Covid vaccine"),
                (CVX, "208", "SARS-COV-2 (COVID-19) vaccine, mRNA, 30 mcg/0.3mL"),
            ),
            "patient": {"reference": "Patient/p2"},
            "occurrenceDateTime": "2021-04-01",
        },
    ),
]

ALLERGIES: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "AllergyIntolerance",
            "id": "al1",
            "clinicalStatus": status_cc("allergyintolerance-clinical", "active"),
            "verificationStatus": status_cc("allergyintolerance-verification", "confirmed"),
            "type": "allergy",
            "category": ["medication"],
            "criticality": "high",
            "code": cc((RXNORM, "7980", "Penicillin G"), text="penicillin"),
            "patient": {"reference": "Patient/p1"},
            "reaction": [
                {"manifestation": [cc((SNOMED, "271807003", "Skin rash"))], "severity": "mild"}
            ],
            "recordedDate": "2020-02-02T10:00:00Z",
        },
    ),
]

COVERAGES: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Coverage",
            "id": "cv1",
            "status": "active",
            "identifier": [{"type": {"coding": [{"code": "MB"}]}, "value": "M-123"}],
            "type": cc((ACT, "PPO", "preferred provider organization policy")),
            "subscriberId": "S-1",
            "beneficiary": {"reference": "Patient/p1"},
            "relationship": status_cc("subscriber-relationship", "self"),
            "period": {"start": "2023-01-01"},
            "payor": [{"reference": "Organization/pay1", "display": "Acme Health"}],
            "class": [
                {
                    "type": cc(
                        ("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group")
                    ),
                    "value": "G-7",
                    "name": "Acme Group",
                },
                {
                    "type": cc(
                        ("http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan")
                    ),
                    "value": "gold",
                    "name": "Acme Gold",
                },
            ],
        },
    ),
]

PRACTITIONERS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Practitioner",
            "id": "pr1",
            "active": True,
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
            "name": [{"family": "Bone", "given": ["Ronald"], "prefix": ["Dr."]}],
            "telecom": [{"system": "email", "value": "rbone@example.org"}],
            "gender": "male",
            "address": [
                {"line": ["1 Hospital Rd"], "city": "Boston", "state": "MA", "postalCode": "02115"}
            ],
        },
    ),
]

ORGANIZATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "ehr",
        {
            "resourceType": "Organization",
            "id": "o1",
            "active": True,
            "name": "General Hospital",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1999999984"}],
            "type": [
                cc(
                    (
                        "http://terminology.hl7.org/CodeSystem/organization-type",
                        "prov",
                        "Healthcare Provider",
                    )
                )
            ],
            "telecom": [{"system": "phone", "value": "555-0300"}],
            "address": [
                {"line": ["1 Hospital Rd"], "city": "Boston", "state": "MA", "postalCode": "02115"}
            ],
        },
    ),
]

RESOURCES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Patient": PATIENTS,
    "Encounter": ENCOUNTERS,
    "Condition": CONDITIONS,
    "Observation": OBSERVATIONS,
    "MedicationRequest": MEDICATION_REQUESTS,
    "MedicationDispense": MEDICATION_DISPENSES,
    "Procedure": PROCEDURES,
    "Immunization": IMMUNIZATIONS,
    "AllergyIntolerance": ALLERGIES,
    "Coverage": COVERAGES,
    "Practitioner": PRACTITIONERS,
    "Organization": ORGANIZATIONS,
}


def _patient_of(resource: dict[str, Any]) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    for key in ("subject", "patient", "beneficiary"):
        ref = resource.get(key, {}).get("reference", "")
        if ref.startswith("Patient/"):
            return str(ref.removeprefix("Patient/"))
    return None


def silver_table(rows: list[tuple[str, dict[str, Any]]]) -> pa.Table:
    """Rows of one resource type as a table with the silver CURRENT_SCHEMA."""
    records = []
    for index, (source, resource) in enumerate(rows):
        body = orjson.dumps(resource)
        records.append(
            {
                "id": resource["id"],
                "resource_type": resource["resourceType"],
                "version": 1,
                "resource": body.decode(),
                "content_hash": hashlib.sha256(body).hexdigest(),
                "patient_id": _patient_of(resource),
                "source": source,
                "source_system": SYSTEMS[source],
                "source_id": resource["id"].upper(),
                "last_updated": LAST_UPDATED,
                "_tenant": "t1",
                "_source": source,
                "_object_sha256": "0" * 64,
                "_object_name": f"{source}.txt",
                "_record_index": index,
                "_batch_id": "b1",
            }
        )
    return pa.Table.from_pylist(records, schema=CURRENT_SCHEMA)


def write_silver(tenant_root: Path, types: list[str] | None = None) -> None:
    """Write the fixture as Delta tables under `<tenant_root>/silver/fhir/<Type>/`."""
    write_silver_rows(tenant_root, {t: rows for t, rows in RESOURCES.items() if types is None or t in types})


def write_silver_rows(tenant_root: Path, resources: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    """Write hand-built resources (type → rows) as Delta tables under `<tenant_root>/silver/fhir/<Type>/`."""
    from deltalake import write_deltalake

    for rtype, rows in resources.items():
        write_deltalake(tenant_root / "silver" / "fhir" / rtype, silver_table(rows), mode="overwrite")


def write_views(tenant_root: Path) -> None:
    """The flat views of the silver tables under `tenant_root`, written to `silver/views/` the way
    the gold stage writes them (every silver table the views read exists, empty if need be)."""
    import duckdb

    from medlake.silver.views import flat

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        register_silver(con, tenant_root)
        flat.ensure_silver_tables(con)
        flat.write_views(con, tenant_root / "silver" / "views")
    finally:
        con.close()


def register_silver(con: Any, tenant_root: Path) -> list[str]:
    """Register every silver Delta table under `tenant_root` as view `silver.<snake_case>`, the
    way `medlake.lake.catalog` does: through `DeltaTable(path).to_pyarrow_dataset()`."""
    from deltalake import DeltaTable

    con.execute("CREATE SCHEMA IF NOT EXISTS silver")
    names = []
    root = tenant_root / "silver" / "fhir"
    for path in sorted(root.iterdir()) if root.exists() else []:
        name = table_name(path.name)
        con.register(f"__silver_{name}", DeltaTable(str(path)).to_pyarrow_dataset())
        con.execute(f"CREATE OR REPLACE VIEW silver.{name} AS SELECT * FROM __silver_{name}")
        names.append(name)
    return names
