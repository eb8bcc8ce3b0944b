"""The silver hook: resources in → resources out; source codings kept; idempotent."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import orjson
import pytest

from medlake.silver.store import SilverRecord
from medlake.silver.terminology import (
    TerminologyContext,
    TerminologyReport,
    normalize,
    normalize_resource,
)
from medlake.silver.terminology.concept_maps import load_concept_maps
from medlake.silver.terminology.icd10 import Icd10Lists
from medlake.silver.terminology.normalize import service_date

ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
LAB = "urn:medlake:acme:lab/codes/L"
NORM = "https://medlake.dev/fhir/StructureDefinition/normalized-coding"
CHECK = "https://medlake.dev/fhir/StructureDefinition/code-check"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> TerminologyContext:
    tmp = tmp_path_factory.mktemp("maps")
    (tmp / "maps.csv").write_text(
        "source_system,source_code,target_system,target_code,target_display\n"
        f"{LAB},A1C,{LOINC},4548-4,Hemoglobin A1c/Hemoglobin.total in Blood\n"
        f"{NDC},0006-0740-31,{RXNORM},312961,simvastatin 20 MG Oral Tablet\n",
        encoding="utf-8",
    )
    (tmp / "lists").mkdir()
    (tmp / "lists" / "icd10cm-2023.txt").write_text("I10\nE119\n", encoding="utf-8")
    return TerminologyContext(load_concept_maps([tmp / "maps.csv"]), Icd10Lists(tmp / "lists"))


def _run(resource: dict[str, Any], ctx: TerminologyContext) -> TerminologyReport:
    report = TerminologyReport()
    normalize_resource(resource, ctx, report)
    return report


def _condition(system: str, code: str, onset: str = "2014-03-02") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "c1", "onsetDateTime": onset,
            "code": {"coding": [{"system": system, "code": code, "display": "as sent"}], "text": "as sent"}}


def test_icd9_gets_its_icd10_candidate_with_flags(ctx: TerminologyContext) -> None:
    # GEM row "4019","I10","10000",1,0,0,0,0
    r = _condition(ICD9, "401.9")
    report = _run(r, ctx)
    assert r["code"] == {"coding": [
        {"system": ICD9, "code": "401.9", "display": "as sent"},
        {"system": ICD10, "code": "I10", "display": "Essential (primary) hypertension", "extension": [{"url": NORM, "extension": [
            {"url": "method", "valueCode": "icd9-gem"},
            {"url": "source", "valueCoding": {"system": ICD9, "code": "401.9"}},
            {"url": "approximate", "valueBoolean": True},
            {"url": "combination", "valueBoolean": False},
            {"url": "scenario", "valueInteger": 0},
            {"url": "choiceList", "valueInteger": 0},
        ]}]},
    ], "text": "as sent"}
    assert report.added == Counter({"icd9-gem": 1}) and report.codings == 1 and not report.unmapped


def _flags(coding: dict[str, Any]) -> dict[str, Any]:
    return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in coding["extension"][0]["extension"]}


def test_combination_keeps_every_code_with_its_scenario_and_choice_list(ctx: TerminologyContext) -> None:
    r = _condition(ICD9, "073.0")
    _run(r, ctx)
    added = r["code"]["coding"][1:]
    assert [(c["code"], _flags(c)["combination"], _flags(c)["scenario"], _flags(c)["choiceList"]) for c in added] == [
        ("A70", True, 1, 1), ("J17", True, 1, 2)]


def test_no_map_is_surfaced_on_the_source_coding(ctx: TerminologyContext) -> None:
    r = _condition(ICD9, "365.70")
    report = _run(r, ctx)
    assert r["code"]["coding"] == [{"system": ICD9, "code": "365.70", "display": "as sent", "extension": [{"url": CHECK, "extension": [
        {"url": "status", "valueCode": "no-map"},
        {"url": "reason", "valueString": "the CMS GEM says ICD-9-CM `365.70` has no ICD-10-CM equivalent"},
    ]}]}]
    assert report.unmapped == Counter({(ICD9, "365.70", "icd9-no-map"): 1})


def test_unknown_icd9(ctx: TerminologyContext) -> None:
    r = _condition(ICD9, "999.999")
    report = _run(r, ctx)
    assert _flags(r["code"]["coding"][0])["status"] == "unknown"
    assert report.unmapped == Counter({(ICD9, "999.999", "icd9-not-in-gem"): 1})


def _dispense(code: str) -> dict[str, Any]:
    return {"resourceType": "MedicationDispense", "whenHandedOver": "2023-02-01",
            "medicationCodeableConcept": {"coding": [{"system": NDC, "code": code}]}}


def test_ndc_gets_11_digits_and_rxnorm_from_a_map(ctx: TerminologyContext) -> None:
    r = _dispense("0006-0740-31")
    report = _run(r, ctx)
    codings = r["medicationCodeableConcept"]["coding"]
    assert codings[0] == {"system": NDC, "code": "0006-0740-31"}
    assert [(c["system"], c["code"]) for c in codings[1:]] == [(NDC, "00006074031"), (RXNORM, "312961")]
    assert _flags(codings[1]) == {"method": "ndc-11", "source": {"system": NDC, "code": "0006-0740-31"}, "form": "4-4-2"}
    assert _flags(codings[2])["method"] == "concept-map" and codings[2]["display"] == "simvastatin 20 MG Oral Tablet"
    assert report.added == Counter({"ndc-11": 1, "concept-map": 1}) and not report.unmapped


def test_ndc_already_11_digits_without_a_map_is_reported_not_changed(ctx: TerminologyContext) -> None:
    r = _dispense("00049490066")
    before = copy.deepcopy(r)
    report = _run(r, ctx)
    assert r == before
    assert report.unmapped == Counter({(NDC, "00049490066", "ndc-no-rxnorm"): 1})


def test_ambiguous_ndc_resolved_only_when_one_reading_is_known(ctx: TerminologyContext) -> None:
    r = _dispense("0006074031")  # readings 00006074031 (in the map), 00060074031, 00060740301
    _run(r, ctx)
    source, ndc11, rx = r["medicationCodeableConcept"]["coding"]
    assert _flags(source)["status"] == "ambiguous"
    assert ndc11["code"] == "00006074031" and _flags(ndc11)["resolvedBy"] == "concept-map"
    assert rx["code"] == "312961"
    r = _dispense("4900669999")
    report = _run(r, ctx)
    assert len(r["medicationCodeableConcept"]["coding"]) == 1
    assert report.unmapped == Counter({(NDC, "4900669999", "ndc-ambiguous"): 1})


def _lab(*codings: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "effectiveDateTime": "2023-05-01T10:00:00Z", "code": {"coding": list(codings)}}


def test_local_lab_code_to_loinc(ctx: TerminologyContext) -> None:
    r = _lab({"system": LAB, "code": "A1C", "display": "HbA1c"})
    report = _run(r, ctx)
    assert r["code"]["coding"][1]["system"] == LOINC and r["code"]["coding"][1]["code"] == "4548-4"
    assert _flags(r["code"]["coding"][1])["map"] == "maps"
    assert not report.unmapped


def test_local_code_is_unmapped_only_when_nothing_standard_is_beside_it(ctx: TerminologyContext) -> None:
    alone = _lab({"system": LAB, "code": "BNP"})
    assert _run(alone, ctx).unmapped == Counter({(LAB, "BNP", "local-unmapped"): 1})
    beside = _lab({"system": LOINC, "code": "30934-4"}, {"system": LAB, "code": "BNP"})
    assert not _run(beside, ctx).unmapped


def _encounter(start: str, code: str) -> dict[str, Any]:
    return {"resourceType": "Encounter", "period": {"start": start}, "reasonCode": [{"coding": [{"system": ICD10, "code": code}]}]}


def test_icd10_checked_against_the_service_dates_fiscal_year(ctx: TerminologyContext) -> None:
    # E88.810 is in the shipped FY2024 list, not in the FY2023 list of the fixture
    before = _encounter("2023-09-30T23:30:00-05:00", "E88.810")
    report = _run(before, ctx)
    assert before["reasonCode"][0]["coding"][0]["extension"] == [{"url": CHECK, "extension": [
        {"url": "status", "valueCode": "invalid"},
        {"url": "reason", "valueString": "`E88810` is not a valid (billable) code in the FY2023 ICD-10-CM list"},
        {"url": "fiscalYear", "valueInteger": 2023},
        {"url": "listYear", "valueInteger": 2023},
    ]}]
    assert report.invalid_icd10 == 1 and report.unmapped == Counter({(ICD10, "E88.810", "icd10-invalid"): 1})
    after = _encounter("2023-10-01", "E88.810")
    assert _run(after, ctx).invalid_icd10 == 0
    assert after == _encounter("2023-10-01", "E88.810")


def test_icd10_without_its_years_list_says_which_list_was_used(ctx: TerminologyContext) -> None:
    r = _encounter("2019-05-01", "E11")
    _run(r, ctx)
    assert _flags(r["reasonCode"][0]["coding"][0])["note"] == "no ICD-10-CM list for FY2019; checked against FY2023"


@pytest.mark.parametrize("resource", [
    _condition(ICD9, "073.0"), _condition(ICD9, "365.70"), _dispense("0006-0740-31"), _dispense("0006074031"),
    _lab({"system": LAB, "code": "A1C"}), _encounter("2023-09-30", "E88.810"),
])
def test_normalizing_twice_adds_nothing(ctx: TerminologyContext, resource: dict[str, Any]) -> None:
    r = copy.deepcopy(resource)
    _run(r, ctx)
    once = orjson.dumps(r)
    report = _run(r, ctx)
    assert orjson.dumps(r) == once
    assert not report.added


def test_source_codings_keep_system_code_and_display(ctx: TerminologyContext) -> None:
    resources = [_condition(ICD9, "272.4"), _dispense("68180-513-01"), _lab({"system": LAB, "code": "A1C", "display": "x"})]
    sources = [orjson.dumps(r).decode() for r in resources]
    for r in resources:
        _run(r, ctx)
    for r, before in zip(resources, sources, strict=True):
        first_before = next(iter(_codings(orjson.loads(before))))
        first_after = next(iter(_codings(r)))
        assert {k: v for k, v in first_after.items() if k != "extension"} == first_before


def _codings(resource: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("code", "medicationCodeableConcept"):
        if key in resource:
            return list(resource[key]["coding"])
    return []


def test_nested_concepts_are_found(ctx: TerminologyContext) -> None:
    r = {"resourceType": "Claim", "billablePeriod": {"start": "2014-01-05"},
         "diagnosis": [{"diagnosisCodeableConcept": {"coding": [{"system": ICD9, "code": "250.00"}]}}],
         "contained": [_dispense("0006-0740-31")]}
    report = _run(r, ctx)
    assert r["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][1]["code"] == "E11.9"
    assert report.added == Counter({"icd9-gem": 1, "ndc-11": 1, "concept-map": 1})


def test_resources_without_codings_are_untouched(ctx: TerminologyContext) -> None:
    r = {"resourceType": "Patient", "name": [{"family": "Doe"}], "coding": "not a list"}
    before = copy.deepcopy(r)
    assert not normalize_resource(r, ctx, TerminologyReport())
    assert r == before


def _record(resource: dict[str, Any]) -> SilverRecord:
    return SilverRecord("id", resource["resourceType"], resource, None, "ehr", "urn:x", "1", "sha", "f.txt", 0, "b1")


def test_normalize_records_and_report(ctx: TerminologyContext) -> None:
    records = [_record(_condition(ICD9, "401.9")), _record({"resourceType": "Patient"}), _record(_dispense("00049490066"))]
    report = normalize(records, ctx)
    assert (report.resources, report.changed, report.codings) == (3, 1, 2)
    disabled = normalize([_record(_condition(ICD9, "401.9"))], TerminologyContext(enabled=False))
    assert disabled == TerminologyReport()


@pytest.mark.parametrize(("resource", "expected"), [
    ({"billablePeriod": {"start": "2023-10-01"}, "created": "2024-02-01"}, "2023-10-01"),
    ({"onsetDateTime": "2015-09-30T23:00:00Z"}, "2015-09-30"),
    ({"onsetDateTime": "2015-10"}, "2015-10-01"),
    ({"period": {"end": "2022-01-02"}}, "2022-01-02"),
    ({"recordedDate": "garbage"}, None),
    ({}, None),
])
def test_service_date(resource: dict[str, Any], expected: str | None) -> None:
    found = service_date(resource)
    assert (found.isoformat() if found else None) == expected


def test_no_phi_in_the_report(ctx: TerminologyContext) -> None:
    r = _lab({"system": LAB, "code": "ZZZ"})
    r["subject"] = {"display": "Jane Doe"}
    assert "Jane" not in repr(_run(r, ctx))


