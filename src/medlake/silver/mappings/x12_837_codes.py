"""An 837 claim's codes (HI, with CL1 and DN2) → Claim.diagnosis, procedure and supportingInfo.

- diagnosis: ABK/BK principal, ABJ/BJ admitting (ex-diagnosistype), ABF/BF other, APR/PR
  reason for visit, ABN/BN external cause (CARIN BB diagnosis types: R4's ex-diagnosistype has
  no code for them); ICD-10-CM for the A-qualifiers, ICD-9-CM for the others; codes as sent
  (no dot); HI0x-9 present on admission as onAdmission (NUBC); sequence in the order sent,
  and ABK/ABF/BK/BF in order are what line pointers 1, 2, … name
- procedure: BBR/BR principal (`primary`), BBQ/BQ others (`secondary`), date HI0x-4 (D8);
  ICD-10-PCS / ICD-9-CM
- supportingInfo: BG condition, BH occurrence (timingDate), BI occurrence span
  (timingPeriod), BE value (valueQuantity = HI0x-5) codes (NUBC code systems) under the
  category system `INFO_CATEGORY_SYSTEM` (R4's claiminformationcategory has no code for
  them); CL1-3 patient status (`discharge`) and DN2 missing teeth (DN202 = M,
  `missingtooth`) under claiminformationcategory

Not mapped: DR (DRG), BP/BO (HCPCS procedures) and TC (treatment codes); other qualifiers are
problems.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from medlake.silver.mappings.x12_837_lines import ADA_TOOTH, amount
from medlake.silver.mappings.x12_837_nodes import date, period
from medlake.silver.mappings.x12_837_parties import TERMINOLOGY, shared
from medlake.silver.mappings.x12_common import ICD10CM, ICD10PCS, SetMapper, concept

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_837_nodes import Node

INFO_CATEGORY_SYSTEM = "https://medlake.dev/fhir/claim-information-category"
"""Categories R4's claiminformationcategory has no code for: condition, occurrence,
occurrence-span, value (UB-04 codes sent in HI BG/BH/BI/BE)."""
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
CARIN = "http://hl7.org/fhir/us/carin-bb/CodeSystem"
NUBC = "https://www.nubc.org/CodeSystem"

EX_DX = f"{TERMINOLOGY}/ex-diagnosistype"
C4BB_DX = f"{CARIN}/C4BBClaimDiagnosisType"
DIAGNOSES = {
    "ABK": (ICD10CM, EX_DX, "principal"), "BK": (ICD9CM, EX_DX, "principal"),
    "ABF": (ICD10CM, C4BB_DX, "other"), "BF": (ICD9CM, C4BB_DX, "other"),
    "ABJ": (ICD10CM, EX_DX, "admitting"), "BJ": (ICD9CM, EX_DX, "admitting"),
    "APR": (ICD10CM, C4BB_DX, "patientreasonforvisit"), "PR": (ICD9CM, C4BB_DX, "patientreasonforvisit"),
    "ABN": (ICD10CM, C4BB_DX, "externalcauseofinjury"), "BN": (ICD9CM, C4BB_DX, "externalcauseofinjury"),
}  # fmt: skip
"""HI code list qualifier → (code system, diagnosis type system, type code)."""
POINTED = frozenset({"ABK", "ABF", "BK", "BF"})
"""The diagnoses SV107 / SV311 pointers count (1 = the first of these on the claim)."""
PROCEDURES = {"BBR": (ICD10PCS, "primary"), "BR": (ICD9CM, "primary"), "BBQ": (ICD10PCS, "secondary"), "BQ": (ICD9CM, "secondary")}
INFO = {
    "BG": ("condition", f"{NUBC}/ConditionCodes"),
    "BH": ("occurrence", f"{NUBC}/OccurrenceCodes"),
    "BI": ("occurrence-span", f"{NUBC}/OccurrenceSpanCodes"),
    "BE": ("value", f"{NUBC}/ValueCodes"),
}
SKIPPED = frozenset({"DR", "BP", "BO", "TC"})
"""HI qualifiers read but not mapped (DRG, HCPCS procedures, treatment codes)."""
QUALIFIERS = ", ".join([*DIAGNOSES, *PROCEDURES, *INFO, *sorted(SKIPPED)])


@lru_cache(maxsize=64)
def _types(system: str, code: str) -> list[dict[str, Any]]:
    return [shared(system, code)]


class Codes(NamedTuple):
    """A claim's HI composites (and CL1, DN2) as Claim elements, and the diagnosis sequences
    the line pointers name (pointer 1 is `pointers[0]`)."""

    diagnoses: list[dict[str, Any]]
    procedures: list[dict[str, Any]]
    info: list[dict[str, Any]]
    pointers: list[int]


_CODED: dict[tuple[str, ...], Codes] = {}
"""Claims' codes already read, by their HI, CL1 and DN2 segments as sent (the same diagnoses
come back claim after claim). Codes that gave a problem are read afresh each time."""
_CODED_LIMIT = 1 << 14


def coded(m: SetMapper, node: Node) -> Codes:
    """The claim's `Codes`, read once per distinct HI / CL1 / DN2 segments (the lists are never
    modified once made, so claims may share them)."""
    segments = node.segments
    raw, ids = segments.raw, segments.ids
    key = (segments.seps.component, *(raw[i] for i in node.own if ids[i] in ("HI", "CL1", "DN2")))
    found = _CODED.get(key)
    if found is None:
        before = len(m.problems)
        reader = _CodeReader(m, node)
        found = Codes(reader.diagnoses, reader.procedures, reader.info, reader.pointers)
        if len(m.problems) == before:
            if len(_CODED) >= _CODED_LIMIT:
                _CODED.clear()
            _CODED[key] = found
    return found


class _CodeReader:
    """Reads a claim's HI composites (and CL1, DN2) into diagnosis, procedure and
    supportingInfo entries."""

    def __init__(self, m: SetMapper, node: Node) -> None:
        self.m, self.node = m, node
        self.diagnoses: list[dict[str, Any]] = []
        self.procedures: list[dict[str, Any]] = []
        self.info: list[dict[str, Any]] = []
        self.pointers: list[int] = []
        comp = node.segments.seps.component
        for hi in node.all_fields("HI"):
            for n, composite in enumerate(hi[1:], 1):
                if composite:
                    comps = composite.split(comp)
                    if len(comps) > 1 and comps[1]:
                        self._code(f"HI{n:02d}", comps)
        cl1 = node.seg("CL1")
        if cl1 is not None and cl1.get(3):
            self._info(concept(f"{TERMINOLOGY}/claiminformationcategory", "discharge"), concept(f"{NUBC}/PatDischargeStatus", cl1.get(3) or ""))
        for dn2 in node.all("DN2"):
            if dn2.get(2) == "M" and dn2.get(1):
                self._info(concept(f"{TERMINOLOGY}/claiminformationcategory", "missingtooth"), concept(ADA_TOOTH, dn2.get(1) or ""))

    def _code(self, element: str, comps: list[str]) -> None:
        qualifier, code = comps[0], comps[1]
        if qualifier in DIAGNOSES:
            self._diagnosis(qualifier, code, comps[8] if len(comps) > 8 else "")
        elif qualifier in PROCEDURES:
            system, kind = PROCEDURES[qualifier]
            entry: dict[str, Any] = {"sequence": len(self.procedures) + 1, "type": [concept(f"{TERMINOLOGY}/ex-procedure-type", kind)]}
            when = self._date(element, comps)
            if when:
                entry["date"] = when
            entry["procedureCodeableConcept"] = concept(system, code)
            self.procedures.append(entry)
        elif qualifier in INFO:
            self._occurrence(element, qualifier, comps)
        elif qualifier not in SKIPPED:
            self.m.problem(self.node.loop, f"{element}-1", f"`{qualifier}` is not a code list qualifier of an 837 HI ({QUALIFIERS})")

    def _diagnosis(self, qualifier: str, code: str, poa: str) -> None:
        system, type_system, kind = DIAGNOSES[qualifier]
        seq = len(self.diagnoses) + 1
        entry: dict[str, Any] = {"sequence": seq, "diagnosisCodeableConcept": shared(system, code), "type": _types(type_system, kind)}
        if poa:
            entry["onAdmission"] = concept(f"{NUBC}/PresentOnAdmissionIndicator", poa)
        self.diagnoses.append(entry)
        if qualifier in POINTED:
            self.pointers.append(seq)

    def _occurrence(self, element: str, qualifier: str, comps: list[str]) -> None:
        kind, system = INFO[qualifier]
        extra: dict[str, Any] = {}
        if qualifier == "BI" and len(comps) > 3 and comps[3]:
            span = period(self.m, self.node, f"{element}-4", comps[2] or "RD8", comps[3])
            if span:
                extra["timingPeriod"] = span
        elif qualifier == "BH":
            when = self._date(element, comps)
            if when:
                extra["timingDate"] = when
        elif qualifier == "BE" and len(comps) > 4 and comps[4]:
            value = amount(self.m, self.node, f"{element}-5", comps[4])
            if value is not None:
                extra["valueQuantity"] = {"value": float(value)}
        self._info(concept(INFO_CATEGORY_SYSTEM, kind), concept(system, comps[1]), extra)

    def _info(self, category: dict[str, Any], code: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        self.info.append({"sequence": len(self.info) + 1, "category": category, "code": code, **(extra or {})})

    def _date(self, element: str, comps: list[str]) -> str | None:
        """HI0x-4 when HI0x-3 is D8."""
        if len(comps) > 3 and comps[3] and comps[2] == "D8":
            return date(self.m, self.node, f"{element}-4", comps[3])
        return None
