"""Security labels on silver resources: hand-made resources, a mapped HL7 ADT message, and
the store (labels are outside the content hash, so they never make a version)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from medlake.formats.hl7v2 import parse_hl7
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.silver import store
from medlake.silver.mappings.hl7v2 import map_message
from medlake.silver.mappings.hl7v2_common import Hl7Context
from medlake.silver.phi.labels import (
    CONFIDENTIALITY,
    PHI_CATEGORY,
    apply,
    categories_of,
    label,
    security_labels,
)


def codes(resource: dict[str, Any]) -> tuple[str, list[str]]:
    """(confidentiality code, PHI category codes) of a labelled resource."""
    sec = resource["meta"]["security"]
    conf = [s["code"] for s in sec if s["system"] == CONFIDENTIALITY]
    assert len(conf) == 1
    return conf[0], [s["code"] for s in sec if s["system"] == PHI_CATEGORY]


PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [
        {"type": {"coding": [{"code": "MR"}]}, "system": "urn:oid:1.2.3", "value": "1001"},
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
    ],
    "name": [{"family": "Rivera", "given": ["Ana"]}],
    "telecom": [{"system": "phone", "value": "312-555-0100"}],
    "gender": "female",
    "birthDate": "1980-02-14",
    "address": [{"state": "IL"}],  # state only: not a Safe Harbor identifier
    "meta": {"source": "urn:acme:ehr"},
}


def test_a_patient_is_restricted_with_each_category_present() -> None:
    r = orjson.loads(orjson.dumps(PATIENT))
    label(r)
    assert codes(r) == ("R", ["names", "dates", "phone", "ssn", "mrn", "other_id"])
    assert r["meta"]["source"] == "urn:acme:ehr"


def test_an_observation_is_normal_dates_and_ids_only() -> None:
    r = {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-01-02"}
    label(r)
    assert r["meta"] == {
        "security": [
            {"system": CONFIDENTIALITY, "code": "N", "display": "normal"},
            {"system": PHI_CATEGORY, "code": "dates"},
            {"system": PHI_CATEGORY, "code": "other_id"},
        ]
    }


def test_practitioner_and_organization_carry_no_phi_category() -> None:
    for rtype in ("Practitioner", "Organization", "Location"):
        r = {"resourceType": rtype, "name": [{"family": "House"}], "telecom": [{"system": "phone", "value": "1"}]}
        assert security_labels(r) == [{"system": CONFIDENTIALITY, "code": "N", "display": "normal"}]


def test_coverage_device_and_claim_identifiers() -> None:
    assert categories_of({"resourceType": "Coverage", "subscriberId": "ZX1"}) == {"health_plan_id"}
    assert categories_of({"resourceType": "Device", "serialNumber": "SN1", "status": "active"}) == {"device"}
    assert categories_of({"resourceType": "Claim", "identifier": [{"value": "CLM-1"}]}) == {"account"}
    assert categories_of({"resourceType": "Encounter", "period": {"start": "2024-01-01"}}) == {"dates"}


def test_telecom_and_identifier_filters() -> None:
    r = {"resourceType": "Patient", "telecom": [{"system": "email", "value": "a@b.org"}, {"system": "fax", "value": "1"}]}
    assert categories_of(r) == {"email", "fax"}
    assert categories_of({"resourceType": "Patient", "identifier": [{"value": "x"}]}) == {"other_id"}
    assert categories_of({"resourceType": "Patient", "telecom": []}) == set()


def test_source_labels_of_other_systems_are_kept_ours_replaced() -> None:
    other = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}
    stale = {"system": CONFIDENTIALITY, "code": "V"}
    r = {"resourceType": "Procedure", "subject": {"reference": "Patient/p1"}, "meta": {"security": [other, stale]}}
    label(r)
    assert r["meta"]["security"][0] == other
    assert codes({"meta": {"security": r["meta"]["security"][1:]}}) == ("N", ["other_id"])


def test_labels_on_resources_mapped_from_an_hl7_admit() -> None:
    text = (
        "MSH|^~\\&|HIS|LAKESIDE|MEDLAKE|LAKESIDE|20240305101500||ADT^A01|C-1|P|2.5\r"
        "EVN|A01|20240305101500\r"
        "PID|1||1001^^^HOSP^MR||Rivera^Ana||19800214|F|||12 Elm St^^Chicago^IL^60601||^PRN^PH^^^312^5550100||||||123-45-6789\r"
        "PV1|1|I|4W^401||||||||||||||||V1|||||||||||||||||||||||||202403051000\r"
    )
    msg = parse_hl7(text.encode(), name="a01.hl7").messages[0]
    m = map_message(msg, Hl7Context("acme", "adt", "urn:acme:adt", "America/Chicago"), 0)
    by_type = {r.resource_type: r for r in m.resources}
    apply(m.resources)
    assert codes(by_type["Patient"].resource) == (
        "R", ["names", "geographic", "dates", "phone", "ssn", "mrn", "other_id"],
    )
    assert codes(by_type["Encounter"].resource) == ("R", ["dates", "account", "other_id"])


def test_labels_do_not_make_versions(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "acme")

    def record(resource: dict[str, Any]) -> store.SilverRecord:
        return store.SilverRecord("p1", "Patient", resource, "p1", "ehr", "urn:acme:ehr", "1001", "sha", "f.csv", 0, "b1")

    first = orjson.loads(orjson.dumps(PATIENT))
    plain = store.content_hash(first)
    rec = record(first)
    apply([rec])
    assert store.content_hash(rec.resource) == plain
    assert store.write(lake, "acme", [rec]).inserted == 1
    again = record({**orjson.loads(orjson.dumps(PATIENT)), "meta": {"security": [{"system": "x", "code": "y"}]}})
    assert store.write(lake, "acme", [again]).unchanged == 1
    stored = delta.read(lake.silver("Patient"), columns=["resource"])
    assert stored is not None
    assert codes(orjson.loads(stored.column("resource")[0].as_py()))[0] == "R"
