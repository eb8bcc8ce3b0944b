"""One 837 claim (loop 2300) → a FHIR Claim; its codes (HI) and its service lines (2400).

Key: CLM01 (the patient control number), so an original (CLM05-3 = 1), its replacement (7)
and its void (8) are versions of one Claim; status `cancelled` for a void, else `active`;
CLM05-3 is kept as the extension `claim-frequency`.

- identifier: CLM01 (`CLAIM_ID_SYSTEM`), REF*F8 (`PAYER_CLAIM_SYSTEM`, the payer's number
  for the claim this one replaces); type professional / institutional / oral; subType
  (837I) the type of bill `0` + CLM05-1 + CLM05-3; use `claim` (`predetermination` for an
  837D with CLM19 = PB); created BHT04; total CLM02
- billablePeriod: DTP*434 (statement dates), else the claim's DTP*472, else the first and
  last line service dates
- careTeam: NM1 loops of the claim (2310x) and of its lines (2420x) by NM101: 82 rendering
  `performing`, DN referring, P3 `primary`, 71 attending, 72 operating, ZZ `otheroperating`,
  DQ `supervisor` (CARIN BB care-team roles), DD assistant surgeon `assist`
  (claimcareteamrole); PRV03 taxonomy as the qualification; facility NM1*77 (Location)
- diagnosis (HI): ABK/BK principal, ABJ/BJ admitting (ex-diagnosistype), ABF/BF other, APR/PR
  reason for visit, ABN/BN external cause (CARIN BB diagnosis types); ICD-10-CM for the
  A-qualifiers, ICD-9-CM for the others; codes as sent (no dot); HI0x-9 present on admission
- procedure (HI): BBR/BR principal (`primary`), BBQ/BQ others (`secondary`), with their date
- supportingInfo: BG condition, BH occurrence (timingDate), BI occurrence span
  (timingPeriod), BE value (valueQuantity) codes under the category system
  `INFO_CATEGORY_SYSTEM`; CL1-3 patient status (`discharge`) and DN2 missing teeth
  (`missingtooth`) under claiminformationcategory
- insurance: the set's Coverage (sequence 1, focal, REF*G1 prior authorization as
  preAuthRef), then one per other payer (2320/2330B, not focal)
- accident: DTP*439 date with CLM11 (AA → MVA, EM → WPA) and CLM11-4 state
- item: see `x12_837_lines`

Balancing: CLM02 = Σ line charges (`m.balance`). Not mapped: CLM06–CLM10, CLM12–CLM20 (but
CLM19), CN1 contract, AMT, PWK attachments, K3, NTE, CR1–CR8 / CRC certifications, the other
DTP dates, HI DR (DRG), BP/BO (HCPCS procedures) and TC codes, 2310 ambulance pick-up and
drop-off, the other payers' adjustments (2320 CAS/AMT) and 2430 line adjudication.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_837_lines import ADA_TOOTH, Line, amount, map_lines
from medlake.silver.mappings.x12_837_nodes import date, period
from medlake.silver.mappings.x12_837_parties import (
    TERMINOLOGY,
    Parties,
    coding,
    coverage,
    payer_id,
    qualification,
    shared,
)
from medlake.silver.mappings.x12_common import (
    CLAIM_ID_SYSTEM,
    ICD10CM,
    ICD10PCS,
    PAYER_CLAIM_SYSTEM,
    SetMapper,
)

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_837_nodes import Node

FREQUENCY_URL = "https://medlake.dev/fhir/StructureDefinition/claim-frequency"
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

C4BB_ROLE = f"{CARIN}/C4BBClaimCareTeamRole"
ROLES = {
    "82": (C4BB_ROLE, "performing"), "DN": (C4BB_ROLE, "referring"), "P3": (f"{TERMINOLOGY}/claimcareteamrole", "primary"),
    "71": (C4BB_ROLE, "attending"), "72": (C4BB_ROLE, "operating"), "ZZ": (C4BB_ROLE, "otheroperating"),
    "DQ": (C4BB_ROLE, "supervisor"), "DD": (f"{TERMINOLOGY}/claimcareteamrole", "assist"),
}  # fmt: skip
"""NM101 of a claim's or a line's provider loop → care-team role (system, code)."""
FREQUENCIES = frozenset({"1", "7", "8"})
"""CLM05-3 codes of 837P/837D (an 837I's is the last digit of the type of bill: any)."""
ACCIDENT = {"AA": "MVA", "EM": "WPA"}
CLAIM_TYPES = {
    family: coding(f"{TERMINOLOGY}/claim-type", kind)
    for family, kind in (("837P", "professional"), ("837I", "institutional"), ("837D", "oral"))
}
NORMAL = coding(f"{TERMINOLOGY}/processpriority", "normal")
ROLE_CODES = {role: coding(*role) for role in ROLES.values()}
"""Codings every claim shares are built once (as the delimited specs fold constant parts)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What every claim under one subscriber or patient (HL) shares."""

    family: str
    created: str | None
    provider: dict[str, Any]
    payee: dict[str, Any]
    insurer: dict[str, Any]
    patient: dict[str, Any]
    patient_key: str
    coverage: dict[str, Any]
    parties: Parties
    insurance: list[dict[str, Any]]
    """`[{sequence 1, focal, coverage}]`, shared by the claims with no other payer."""


class CareTeam:
    """Claim.careTeam, one entry per provider and role; `add` returns its sequence."""

    def __init__(self, parties: Parties) -> None:
        self.parties = parties
        self.members: list[dict[str, Any]] = []
        self._seq: dict[tuple[str, str], int] = {}

    def add(self, m: SetMapper, node: Node) -> int | None:
        nm1 = node.trigger
        role = ROLES.get(nm1.element(1))
        if role is None:
            return None
        ref = self.parties.provider(node, nm1)
        k = (ref["reference"], role[1])
        seq = self._seq.get(k)
        if seq is None:
            seq = self._seq[k] = len(self.members) + 1
            entry: dict[str, Any] = {"sequence": seq, "provider": ref, "role": ROLE_CODES[role]}
            qual = qualification(node)
            if qual:
                entry["qualification"] = qual
            self.members.append(entry)
        return seq


def map_claim(m: SetMapper, node: Node, ctx: Context) -> None:
    clm = node.fields("CLM") or []
    clm01 = clm[1]
    if not clm01:
        m.problem(node.loop, "CLM01", "CLM01 (patient control number) is empty: the claim has no key and is not mapped")
        return
    team = CareTeam(ctx.parties)
    insurance = ctx.insurance
    refs = node.all_fields("REF")
    auth = [r[2] for r in refs if r[1] == "G1" and r[2]]
    if auth:
        insurance = [{**insurance[0], "preAuthRef": auth}]
    facility_ref = None
    lines: list[Node] = []
    for child in node.children:
        if child.id == "2400":
            lines.append(child)
        elif child.id == "2320":
            other = _other_payer(m, child, ctx, len(insurance) + 1)
            if other:
                insurance = [*insurance, other]
        elif child.segments.raw[child.own[0]].startswith("NM1*77*"):
            facility_ref = ctx.parties.facility(child)
        else:
            team.add(m, child)
    codes = Codes(m, node)
    c5 = [*clm[5].split(node.segments.seps.component), "", "", ""]
    items = map_lines(m, lines, Line(ctx.family, c5[0] if c5[1] == "B" else None, codes.pointers, team))
    body = _header(m, node, clm, c5, refs, ctx)
    dates = node.all_fields("DTP")
    period = _billable(m, node, dates, items.dates)
    for key, value in (
        ("billablePeriod", period), ("created", ctx.created), ("insurer", ctx.insurer),
        ("provider", ctx.provider), ("priority", NORMAL),
        ("payee", ctx.payee), ("facility", facility_ref), ("careTeam", team.members),
        ("supportingInfo", codes.info), ("diagnosis", codes.diagnoses), ("procedure", codes.procedures),
        ("insurance", insurance), ("accident", _accident(m, node, clm, dates)), ("item", items.items),
    ):  # fmt: skip
        if value:
            body[key] = value
    total = amount(m, node, "CLM02", clm[2])
    if total is not None:
        body["total"] = {"value": float(total), "currency": "USD"}
        m.balance("CLM02 = sum(line charges)", f"claim {clm01}", total, items.charges)
    m.add("Claim", clm01, body, patient_key=ctx.patient_key)


def _header(m: SetMapper, node: Node, clm: list[str], c5: list[str], refs: list[list[str]], ctx: Context) -> dict[str, Any]:
    """extension, identifier, status, type, subType, use, patient (`clm`: the CLM's padded
    elements; `c5`: CLM05's components; `refs`: the claim's REF segments)."""
    body: dict[str, Any] = {}
    freq = c5[2]
    if not freq:
        m.problem(node.loop, "CLM05-3", "CLM05-3 (claim frequency) is empty; the claim is read as an original (1)")
    elif ctx.family != "837I" and freq not in FREQUENCIES:
        m.problem(node.loop, "CLM05-3", f"`{freq}` is not a claim frequency code (1 original, 7 replacement, 8 void)")
    if freq:
        body["extension"] = _frequency(freq)
    identifiers = [{"system": CLAIM_ID_SYSTEM, "value": clm[1]}]
    identifiers += [{"system": PAYER_CLAIM_SYSTEM, "value": r[2]} for r in refs if r[1] == "F8" and r[2]]
    body["identifier"] = identifiers
    body["status"] = "cancelled" if freq == "8" else "active"
    body["type"] = CLAIM_TYPES[ctx.family]
    if ctx.family == "837I" and c5[0]:
        body["subType"] = shared(f"{NUBC}/TypeOfBill", f"0{c5[0]}{freq}")
    body["use"] = "predetermination" if ctx.family == "837D" and clm[19:20] == ["PB"] else "claim"
    body["patient"] = ctx.patient
    return body


@lru_cache(maxsize=64)
def _frequency(code: str) -> list[dict[str, Any]]:
    return [{"url": FREQUENCY_URL, "valueCode": code}]


@lru_cache(maxsize=64)
def _types(system: str, code: str) -> list[dict[str, Any]]:
    return [shared(system, code)]


def _billable(m: SetMapper, node: Node, dtps: list[list[str]], dates: list[tuple[str, str]]) -> dict[str, str] | None:
    """DTP*434, else the claim's DTP*472, else the first and last line dates."""
    for qualifier in ("434", "472"):
        for dtp in dtps:
            if dtp[1] == qualifier and dtp[2] in ("D8", "RD8"):
                return period(m, node, "DTP03", dtp[2], dtp[3])
    if not dates:
        return None
    return _period(min(d[0] for d in dates), max(d[1] for d in dates))


@lru_cache(maxsize=4096)
def _period(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def _accident(m: SetMapper, node: Node, clm: list[str], dtps: list[list[str]]) -> dict[str, Any] | None:
    """DTP*439 accident date, CLM11-1..3 related causes, CLM11-4 state."""
    dtp = next((d for d in dtps if d[1] == "439"), None)
    when = date(m, node, "DTP03", dtp[3]) if dtp is not None else None
    if not when:
        return None
    out: dict[str, Any] = {"date": when}
    causes = [*clm[11].split(node.segments.seps.component), "", "", "", ""]
    cause = next((ACCIDENT[c] for c in causes[:3] if c in ACCIDENT), None)
    if cause:
        out["type"] = coding(f"{TERMINOLOGY}/v3-ActCode", cause)
    if causes[3]:
        out["locationAddress"] = {"state": causes[3]}
    return out


def _other_payer(m: SetMapper, node: Node, ctx: Context, sequence: int) -> dict[str, Any] | None:
    """2320 SBR + 2330A (other subscriber) + 2330B (other payer) → a Coverage, not focal."""
    sbr = node.trigger
    payer_node, subscriber = node.find("2330B"), node.find("2330A")
    if payer_node is None:
        m.problem(node.loop, "NM1", "loop 2330B (other payer name) is missing: the other payer's coverage is not mapped")
        return None
    pid = payer_id(payer_node.trigger)
    member = subscriber.trigger.get(9) if subscriber is not None else None
    key = f"{pid}|{member or ''}"
    if sbr.get(2) != "18":
        key = f"{key}|{ctx.patient_key}"
    refs = (ctx.parties.payer(payer_node), ctx.patient)
    ref = coverage(m, key, sbr, pid, member, refs, ctx.patient_key, sbr.get(2))
    return {"sequence": sequence, "focal": False, "coverage": ref}


class Codes:
    """The claim's HI composites as diagnosis, procedure and supportingInfo entries, and the
    diagnosis sequences the line pointers name."""

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
            self._info(coding(f"{TERMINOLOGY}/claiminformationcategory", "discharge"), coding(f"{NUBC}/PatDischargeStatus", cl1.get(3) or ""))
        for dn2 in node.all("DN2"):
            if dn2.get(2) == "M" and dn2.get(1):
                self._info(coding(f"{TERMINOLOGY}/claiminformationcategory", "missingtooth"), coding(ADA_TOOTH, dn2.get(1) or ""))

    def _code(self, element: str, comps: list[str]) -> None:
        qualifier, code = comps[0], comps[1]
        if qualifier in DIAGNOSES:
            self._diagnosis(qualifier, code, comps[8] if len(comps) > 8 else "")
        elif qualifier in PROCEDURES:
            system, kind = PROCEDURES[qualifier]
            entry: dict[str, Any] = {"sequence": len(self.procedures) + 1, "type": [coding(f"{TERMINOLOGY}/ex-procedure-type", kind)]}
            when = self._date(element, comps)
            if when:
                entry["date"] = when
            entry["procedureCodeableConcept"] = coding(system, code)
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
            entry["onAdmission"] = coding(f"{NUBC}/PresentOnAdmissionIndicator", poa)
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
        self._info(coding(INFO_CATEGORY_SYSTEM, kind), coding(system, comps[1]), extra)

    def _info(self, category: dict[str, Any], code: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        self.info.append({"sequence": len(self.info) + 1, "category": category, "code": code, **(extra or {})})

    def _date(self, element: str, comps: list[str]) -> str | None:
        """HI0x-4 when HI0x-3 is D8."""
        if len(comps) > 3 and comps[3] and comps[2] == "D8":
            return date(self.m, self.node, f"{element}-4", comps[3])
        return None
