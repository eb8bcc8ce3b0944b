"""277 (X212 claim status response; X214 277CA claim acknowledgment has the same claim loops)
→ a ClaimResponse per claim status loop (2200D subscriber, 2200E dependent), with the member's
Patient, the payer (2100A) and the provider (2100C) as Organizations or Practitioners. A 276
(status inquiry) is a question, not a fact about the claim: it makes nothing.

Keys (each resource's source id):

- ClaimResponse: the claim's patient control number (CLM01): REF*EJ, else TRN02 (the 277CA
  echoes CLM01 there), so each status of one claim is a new version of one ClaimResponse;
- payer id: 2100A NM109, else `name|<NM103>`; the payer Organization `payer|<payer id>`;
- provider (2100C): the NPI (NM108 XX), else `<NM108>|<NM109>`, else the name (as the 837's);
- Patient: the subscriber `<payer id>|<NM109>` (as the 837's), a dependent (2100E, or an
  unidentified 277CA patient) `<payer id>|<subscriber NM109>|dependent|<NM103>|<NM104>|`.

ClaimResponse: identifier CLAIM_ID_SYSTEM (and REF*1K, the payer claim control number, under
PAYER_CLAIM_SYSTEM); status active; type institutional with REF*BLT (bill type), else
professional; use claim; created STC02 (else BHT04); request a logical reference to the
claim by CLM01; outcome from STC01-1 (the status category of the first STC): A0/A1/A2/A5
acknowledged, P* pending and R* requests for information → `queued`; F* finalized →
`complete` (F2: disposition `Denied`); A3/A4/A6/A7/A8 rejections (disposition `Rejected`),
E* and D0 → `error`; the extensions `claim-status-category` (STC01-1) and
`claim-status-code` (STC01-2); total: STC04 submitted, STC05 benefit; an item per service
line (2220D/E SVC) with SVC02 submitted and SVC03 benefit and the line's STC as extensions.

Not mapped: statuses at the source, receiver and provider levels (2200A–C: batch
acknowledgments, no claim), STC01-3 (entity), STC03 (action), STC06–STC09 (payment date,
method, check date and number), STC10/STC11 (second and third status), further STC
segments, REF*BLT's value, REF*XZ/VV/D9/FJ, DTP*472 (service dates), QTY/AMT, the line's
procedure code (an R4 ClaimResponse item has no element for it) and SVC04–SVC07.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_common import (
    CLAIM_ID_SYSTEM,
    HL7_TERMINOLOGY,
    PAYER_CLAIM_SYSTEM,
    SetMapper,
    ancestor,
    concept,
    group_date,
    human_name,
    member_identifier,
    name_loop,
    payer_organization,
    provider_party,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import Loop, Segment

EXT = "https://medlake.dev/fhir/StructureDefinition"
ADJUDICATION = f"{HL7_TERMINOLOGY}/adjudication"

QUEUED = frozenset({"A0", "A1", "A2", "A5"})
REJECTED = frozenset({"A3", "A4", "A6", "A7", "A8"})
"""Claim status categories (external code list 507) of claims returned or not found."""


def outcome(category: str) -> tuple[str, str | None] | None:
    """STC01-1 → (ClaimResponse.outcome, disposition); None for an unknown category."""
    if category in QUEUED or category[:1] in ("P", "R"):
        return "queued", None
    if category in REJECTED:
        return "error", "Rejected"
    if category[:1] == "F":
        return "complete", "Denied" if category == "F2" else None
    if category[:1] == "E" or category == "D0":
        return "error", None
    return None


def map_set(m: SetMapper) -> None:
    if m.tset.family == "276":
        return  # an inquiry: nothing to record (see the module docstring)
    for loop_id in ("2200D", "2200E"):
        for claim in m.tset.find_all(loop_id):
            claim_status(m, claim)


def claim_status(m: SetMapper, claim: Loop) -> None:
    stc = claim.segment("STC")
    if stc is None:
        return  # a claim loop without a status (a 276 echoed back): nothing to record
    refs = {r.get(1): r.get(2) for r in reversed(claim.all("REF")) if r.get(2)}
    trn = claim.segment("TRN")
    pcn = refs.get("EJ") or (trn.get(2) if trn is not None else None)
    if not pcn:
        m.problem(claim, "REF02", "no patient control number: REF*EJ and TRN02 are empty; the status is not mapped")
        return
    payer_id, payer = payer_party(m, claim)
    patient_key = patient(m, claim, payer_id)
    provider_loop = name_loop(ancestor(claim, "2000C"))
    body: dict[str, Any] = {}
    category = stc.get(1, 1) or ""
    extensions = status_extensions(stc)
    if extensions:
        body["extension"] = extensions
    body["identifier"] = [{"system": CLAIM_ID_SYSTEM, "value": pcn}]
    if refs.get("1K"):
        body["identifier"].append({"system": PAYER_CLAIM_SYSTEM, "value": refs["1K"]})
    body["status"] = "active"
    body["type"] = concept(f"{HL7_TERMINOLOGY}/claim-type", "institutional" if "BLT" in refs else "professional")
    body["use"] = "claim"
    body["patient"] = m.reference("Patient", patient_key)
    created = m.date(claim, "STC02", stc.get(2)) or bht_date(m)
    if created:
        body["created"] = created
    if payer is not None:
        body["insurer"] = payer
    if provider_loop is not None:
        body["requestor"] = provider_party(m, provider_loop.trigger)
    body["request"] = {"identifier": {"system": CLAIM_ID_SYSTEM, "value": pcn}}
    decided = outcome(category)
    if decided is None:
        m.problem(claim, "STC01-1", f"`{category}` is not a claim status category code: expected A0–A8, D0, E0–E4, F0–F4, P0–P5 or R0–R16")
        decided = ("queued", None)
    body["outcome"], disposition = decided
    if disposition:
        body["disposition"] = disposition
    items = lines(m, claim)
    if items:
        body["item"] = items
    total = amounts(m, claim, stc)
    if total:
        body["total"] = total
    m.add("ClaimResponse", pcn, body, patient_key=patient_key)


def status_extensions(stc: Segment) -> list[dict[str, Any]]:
    """STC01-1 (category) and STC01-2 (status code) as they were sent."""
    out = []
    for k, name in ((1, "claim-status-category"), (2, "claim-status-code")):
        code = stc.get(1, k)
        if code:
            out.append({"url": f"{EXT}/{name}", "valueCode": code})
    return out


def amounts(m: SetMapper, loop: Loop, seg: Segment, first: int = 4) -> list[dict[str, Any]]:
    """Elements `first` (charged) and `first + 1` (paid) of STC or SVC as submitted/benefit."""
    out = []
    for kind, n in (("submitted", first), ("benefit", first + 1)):
        amount = m.money(loop, f"{seg.id}{n:02d}", seg.get(n))
        if amount is not None:
            out.append({"category": concept(ADJUDICATION, kind), "amount": amount})
    return out


def bht_date(m: SetMapper) -> str | None:
    bht = m.tset.loops.segment("BHT")
    return (m.date(None, "BHT04", bht.get(4)) if bht is not None else None) or group_date(m)


def lines(m: SetMapper, claim: Loop) -> list[dict[str, Any]]:
    """2220D/E SVC → items: SVC02 submitted, SVC03 benefit; the line STC01-1/-2 as extensions."""
    out = []
    for seq, line in enumerate((c for c in claim.children if c.id.startswith("2220")), 1):
        adjudication = amounts(m, line, line.trigger, 2)
        if not adjudication:
            continue
        item: dict[str, Any] = {}
        stc = line.segment("STC")
        extensions = status_extensions(stc) if stc is not None else []
        if extensions:
            item["extension"] = extensions
        item["itemSequence"] = seq
        item["adjudication"] = adjudication
        out.append(item)
    return out


def payer_party(m: SetMapper, claim: Loop) -> tuple[str, dict[str, Any] | None]:
    names = name_loop(ancestor(claim, "2000A"))
    if names is None:
        m.problem(claim, "NM1", "the information source (2000A/2100A) is missing: no insurer")
        return "", None
    nm1 = names.trigger
    payer_id = nm1.get(9) or f"name|{nm1.get(3) or ''}"
    return payer_id, payer_organization(m, payer_id, nm1.get(3))


def patient(m: SetMapper, claim: Loop, payer_id: str) -> str:
    """The claim's patient: 2100D (the subscriber, or the 277CA's patient) or 2100E."""
    level = claim.parent
    names = name_loop(level)
    subscriber = name_loop(ancestor(claim, "2000D")) if claim.id == "2200E" else names
    member = subscriber.trigger.get(9) if subscriber is not None else None
    nm1 = names.trigger if names is not None else None
    is_subscriber = claim.id == "2200D" and nm1 is not None and nm1.get(1) == "IL"
    if member and nm1 is not None and (is_subscriber or nm1.get(9) == member):
        key = f"{payer_id}|{member}"
    else:
        last, first = (nm1.get(3), nm1.get(4)) if nm1 is not None else (None, None)
        key = f"{payer_id}|{member or ''}|dependent|{last or ''}|{first or ''}|"
    if m.find("Patient", key) is None:
        body: dict[str, Any] = {}
        if member and key == f"{payer_id}|{member}":
            body["identifier"] = [member_identifier(payer_id, member)]
        name = human_name(nm1) if nm1 is not None else None
        if name:
            body["name"] = [{"use": "official", **name}]
        m.add("Patient", key, body)
    return key
