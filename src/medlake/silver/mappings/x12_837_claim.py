"""One 837 claim (loop 2300) → a FHIR Claim, with its codes (`x12_837_codes`) and service
lines (`x12_837_lines`).

Key: CLM01 (the patient control number), so an original (CLM05-3 = 1), its replacement (7)
and its void (8) are versions of one Claim, in file order even within one set
(`m.add_version`); status `cancelled` for a void, else `active`; CLM05-3 is kept as the
extension `claim-frequency`.

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
- diagnosis, procedure, supportingInfo: the HI codes (and CL1, DN2), see `x12_837_codes`
- insurance: the set's Coverage (sequence 1, focal, REF*G1 prior authorization as
  preAuthRef), then one per other payer (2320/2330B, not focal)
- accident: DTP*439 date with CLM11 (AA → MVA, EM → WPA) and CLM11-4 state
- item: see `x12_837_lines`

Balancing: CLM02 = Σ line charges (`m.balance`). Not mapped: CLM06–CLM10, CLM12–CLM20 (but
CLM19), CN1 contract, AMT, PWK attachments, K3, NTE, CR1–CR8 / CRC certifications, the other
DTP dates, 2310 ambulance pick-up and drop-off, the other payers' adjustments (2320 CAS/AMT) and 2430 line adjudication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_837_codes import coded
from medlake.silver.mappings.x12_837_lines import Line, amount, map_lines
from medlake.silver.mappings.x12_837_nodes import date, period
from medlake.silver.mappings.x12_837_parties import (
    TERMINOLOGY,
    Parties,
    coverage,
    payer_id,
    qualification,
    shared,
)
from medlake.silver.mappings.x12_common import (
    CLAIM_ID_SYSTEM,
    PAYER_CLAIM_SYSTEM,
    SetMapper,
    concept,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import Segment
    from medlake.silver.mappings.x12_837_nodes import Node

FREQUENCY_URL = "https://medlake.dev/fhir/StructureDefinition/claim-frequency"
CARIN = "http://hl7.org/fhir/us/carin-bb/CodeSystem"
NUBC = "https://www.nubc.org/CodeSystem"

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
    family: concept(f"{TERMINOLOGY}/claim-type", kind)
    for family, kind in (("837P", "professional"), ("837I", "institutional"), ("837D", "oral"))
}
NORMAL = concept(f"{TERMINOLOGY}/processpriority", "normal")
ROLE_CODES = {role: concept(*role) for role in ROLES.values()}
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

    def add(self, m: SetMapper, node: Node, nm1: Segment | None = None) -> int | None:
        """Add the provider of NM1 loop `node` (`nm1`: its trigger, when already read)."""
        nm1 = node.trigger if nm1 is None else nm1
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


@dataclass(slots=True)
class _Parts:
    """What a claim's child loops give it."""

    team: CareTeam
    insurance: list[dict[str, Any]]
    facility: dict[str, Any] | None = None
    lines: list[Node] = field(default_factory=list)


def map_claim(m: SetMapper, node: Node, ctx: Context) -> None:
    clm = node.fields("CLM")
    if clm is None:  # pragma: no cover - a 2300 loop starts with its CLM
        return
    clm01 = clm[1]
    if not clm01:
        m.problem(node.loop, "CLM01", "CLM01 (patient control number) is empty: the claim has no key and is not mapped")
        return
    refs = node.all_fields("REF")
    parts = _children(m, node, ctx, [r[2] for r in refs if r[1] == "G1" and r[2]])
    codes = coded(m, node)
    c5 = [*clm[5].split(node.segments.seps.component), "", "", ""]
    items = map_lines(m, parts.lines, Line(ctx.family, c5[0] if c5[1] == "B" else None, codes.pointers, parts.team))
    body = _header(m, node, clm, c5, refs, ctx)
    dates = node.all_fields("DTP")
    for key, value in (
        ("billablePeriod", _billable(m, node, dates, items.dates)), ("created", ctx.created),
        ("insurer", ctx.insurer), ("provider", ctx.provider), ("priority", NORMAL), ("payee", ctx.payee),
        ("facility", parts.facility), ("careTeam", parts.team.members), ("supportingInfo", codes.info),
        ("diagnosis", codes.diagnoses), ("procedure", codes.procedures), ("insurance", parts.insurance),
        ("accident", _accident(m, node, clm, dates)), ("item", items.items),
    ):  # fmt: skip
        if value:
            body[key] = value
    total = amount(m, node, "CLM02", clm[2])
    if total is not None:
        body["total"] = {"value": float(total), "currency": "USD"}
        m.balance("CLM02 = sum(line charges)", f"claim {clm01}", total, items.charges)
    m.add_version("Claim", clm01, body, patient_key=ctx.patient_key)


def _children(m: SetMapper, node: Node, ctx: Context, auth: list[str]) -> _Parts:
    """The claim's loops: providers (care team), facility, other payers, lines; `auth`: its
    prior authorizations (REF*G1, on the focal insurance)."""
    insurance = [{**ctx.insurance[0], "preAuthRef": auth}] if auth else ctx.insurance
    parts = _Parts(CareTeam(ctx.parties), insurance)
    for child in node.children:
        if child.id == "2400":
            parts.lines.append(child)
        elif child.id == "2320":
            other = _other_payer(m, child, ctx, len(parts.insurance) + 1)
            if other:
                parts.insurance = [*parts.insurance, other]
        else:
            nm1 = child.trigger
            if nm1.id == "NM1" and nm1.element(1) == "77":
                parts.facility = ctx.parties.facility(child)
            else:
                parts.team.add(m, child, nm1)
    return parts


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
        out["type"] = concept(f"{TERMINOLOGY}/v3-ActCode", cause)
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
