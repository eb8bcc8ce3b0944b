"""What normalization does with one distinct (system, code): the plan, computed once and cached.

A plan is the codings to add next to the source coding (each carrying the `normalized-coding`
extension that says how it was derived), an optional `code-check` extension for the source
coding itself (no GEM equivalent, invalid or ambiguous NDC), and the unmapped-report reason.
ICD-10-CM validity depends on the service date, so it is decided in `normalize`, not here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from medlake.silver.terminology import gems
from medlake.silver.terminology.concept_maps import NOT_A_MATCH, ConceptMaps, MapTarget
from medlake.silver.terminology.icd10 import ICD10CM_SYSTEM, description, dotted_icd10
from medlake.silver.terminology.ndc import NDC_SYSTEM, normalize_ndc

ICD9CM_SYSTEM = "http://hl7.org/fhir/sid/icd-9-cm"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC_SYSTEM = "http://loinc.org"

EXT_NORMALIZED = "https://medlake.dev/fhir/StructureDefinition/normalized-coding"
"""On an added coding: how it was derived (method, source coding, GEM flags or map equivalence)."""
EXT_CODE_CHECK = "https://medlake.dev/fhir/StructureDefinition/code-check"
"""On a source coding: what is wrong with it (status, reason; for ICD-10-CM the fiscal years)."""

# code systems registered with HL7 (OID arcs 2.16.840.1.113883.5/6/12): standard, not local
_HL7_OID_ARCS = ("urn:oid:2.16.840.1.113883.5.", "urn:oid:2.16.840.1.113883.6.", "urn:oid:2.16.840.1.113883.12.")


class Plan(NamedTuple):
    add: tuple[dict[str, Any], ...] = ()
    check: dict[str, Any] | None = None
    unmapped: str | None = None  # reason for the unmapped-codes report
    local: bool = False  # a local code: reported unmapped when its concept ends up with no standard coding


NOTHING = Plan()


def is_local(system: str | None, maps: ConceptMaps) -> bool:
    """A code system of one site rather than a standard: none, `urn:medlake:…`, a private OID, or a map's source."""
    if not system:
        return True
    if system in maps.systems:
        return True
    if system.startswith("urn:medlake:"):
        return True
    return system.startswith("urn:oid:") and not system.startswith(_HL7_OID_ARCS)


def plan_for(system: str | None, code: str, maps: ConceptMaps) -> Plan:
    if system == ICD9CM_SYSTEM:
        return _icd9(code)
    if system == NDC_SYSTEM:
        return _ndc(code, maps)
    targets = maps.lookup(system or "", code)
    if targets:
        return Plan(add=tuple(_mapped(t, system or "", code) for t in targets if t.equivalence not in NOT_A_MATCH))
    if is_local(system, maps):
        return Plan(local=True, unmapped="local-unmapped")
    return NOTHING


def _icd9(code: str) -> Plan:
    mapping = gems.icd9_to_icd10(code)
    if mapping is None:
        reason = f"`{code}` is not an ICD-9-CM diagnosis code in the CMS GEM"
        return Plan(check=check_ext("unknown", reason), unmapped="icd9-not-in-gem")
    if mapping.no_map:
        reason = f"the CMS GEM says ICD-9-CM `{code}` has no ICD-10-CM equivalent"
        return Plan(check=check_ext("no-map", reason), unmapped="icd9-no-map")
    source = {"system": ICD9CM_SYSTEM, "code": code}
    return Plan(add=tuple(_gem_coding(t, source) for t in mapping.candidates))


def _gem_coding(t: gems.GemTarget, source: dict[str, str]) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": ICD10CM_SYSTEM, "code": dotted_icd10(t.code)}
    display = description(t.code)
    if display:
        coding["display"] = display
    coding["extension"] = [normalized_ext("icd9-gem", source, [
        {"url": "approximate", "valueBoolean": t.approximate},
        {"url": "combination", "valueBoolean": t.combination},
        {"url": "scenario", "valueInteger": t.scenario},
        {"url": "choiceList", "valueInteger": t.choice_list},
    ])]
    return coding


def _ndc(code: str, maps: ConceptMaps) -> Plan:
    result = normalize_ndc(code)
    source = {"system": NDC_SYSTEM, "code": code}
    if result.ndc11 is None and result.ambiguous:
        known = [c for c in result.candidates if maps.lookup(NDC_SYSTEM, c)]
        if len(known) != 1:
            return Plan(check=check_ext("ambiguous", result.error or ""), unmapped="ndc-ambiguous")
        # exactly one reading is a product the maps know: use it, and say so
        extra = [{"url": "form", "valueString": "10"}, {"url": "resolvedBy", "valueString": "concept-map"}]
        return Plan(add=_ndc_codings(known[0], source, extra, maps), check=check_ext("ambiguous", result.error or ""))
    if result.ndc11 is None:
        return Plan(check=check_ext("invalid", result.error or ""), unmapped="ndc-invalid")
    return Plan(add=_ndc_codings(result.ndc11, source, [{"url": "form", "valueString": result.form}], maps))


def _ndc_codings(ndc11: str, source: dict[str, str], extra: list[dict[str, Any]], maps: ConceptMaps) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    if ndc11 != source["code"]:
        out.append({"system": NDC_SYSTEM, "code": ndc11, "extension": [normalized_ext("ndc-11", source, extra)]})
    out.extend(_mapped(t, NDC_SYSTEM, ndc11) for t in maps.lookup(NDC_SYSTEM, ndc11) if t.equivalence not in NOT_A_MATCH)
    return tuple(out)


def _mapped(t: MapTarget, system: str, code: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": t.system, "code": t.code}
    if t.display:
        coding["display"] = t.display
    coding["extension"] = [normalized_ext("concept-map", {"system": system, "code": code}, [
        {"url": "equivalence", "valueCode": t.equivalence},
        {"url": "map", "valueString": t.map_name},
    ])]
    return coding


def normalized_ext(method: str, source: dict[str, str], details: list[dict[str, Any]]) -> dict[str, Any]:
    return {"url": EXT_NORMALIZED, "extension": [
        {"url": "method", "valueCode": method}, {"url": "source", "valueCoding": dict(source)}, *details,
    ]}


def check_ext(status: str, reason: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"url": EXT_CODE_CHECK, "extension": [
        {"url": "status", "valueCode": status}, {"url": "reason", "valueString": reason}, *(details or []),
    ]}
