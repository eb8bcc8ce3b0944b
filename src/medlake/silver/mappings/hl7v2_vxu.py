"""VXU^V04 → an Immunization per RXA, its OBX as Observations (part of the Immunization).

Immunization: key = the filler order number (ORC-3) when there is one (not the `9999` the CDC
guide sends for refusals and historical records), else patient + vaccine (RXA-5) +
administration time (RXA-3). Status from RXA-20 (CP, PA → completed; RE, NA →
not-done; empty → completed) and RXA-21 (D → entered-in-error), statusReason RXA-18,
vaccineCode RXA-5 (CVX), occurrence RXA-3, recorded RXA-22, primarySource/reportOrigin RXA-9
(NIP001 `00` = new record), location RXA-11, manufacturer RXA-17 (MVX) as an Organization,
lotNumber RXA-15, expirationDate RXA-16, site/route RXR-2/RXR-1, doseQuantity RXA-6/7 (999 =
unknown), performers RXA-10 (administering, AP) and ORC-12 (ordering, OP), reasonCode RXA-19,
subpotent when RXA-20 = PA. From the OBX: funding source (LOINC 30963-3), program eligibility
(64994-7) and the vaccine information statements (69764-9, 29768-9, 29769-7, 30956-7 grouped
by OBX-4) as `education`.

Not mapped: TQ1 (an administration has no schedule), PD1, NK1, PRT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import (
    CODE_SYSTEMS,
    MessageMapper,
    split_components,
    with_table,
)
from medlake.silver.mappings.hl7v2_results import (
    ObservationContext,
    Result,
    code_key,
    control_key,
    entity,
    first,
    observation,
    one_patient,
)
from medlake.silver.mappings.hl7v2_values import DATE_TYPES, number, quantity, unit_of

COMPLETION = {"CP": "completed", "PA": "completed", "RE": "not-done", "NA": "not-done"}
"""HL7 table 0322 (completion status, RXA-20) → Immunization.status."""

FUNCTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0443"
FUNDING_SOURCE, ELIGIBILITY = "30963-3", "64994-7"
VIS_DOCUMENT, VIS_PUBLISHED, VIS_PRESENTED, VIS_VACCINE = "69764-9", "29768-9", "29769-7", "30956-7"


@dataclass
class Administration:
    orc: Segment | None
    rxa: Segment | None = None
    routes: list[Segment] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)


def administrations(m: MessageMapper) -> tuple[list[Administration], list[Result]]:
    """ORC … RXA, RXR, OBX (+ NTE) groups, and OBX outside them (patient observations)."""
    out: list[Administration] = []
    loose: list[Result] = []
    cur: Administration | None = None
    last: Result | None = None
    for seg in one_patient(m):
        sid = seg.id
        if sid == "ORC" or (sid == "RXA" and (cur is None or cur.rxa is not None)):
            cur = Administration(seg if sid == "ORC" else None)
            out.append(cur)
            last = None
        if sid == "RXA" and cur is not None:
            cur.rxa = seg
        elif sid == "RXR" and cur is not None:
            cur.routes.append(seg)
        elif sid == "OBX":
            last = Result(seg)
            (cur.results if cur is not None else loose).append(last)
        elif sid == "NTE" and last is not None:
            last.notes.append(seg)
    return out, loose


def map_message(m: MessageMapper) -> None:
    groups, loose = administrations(m)
    ctx = ObservationContext(control_key(m))
    for r in loose:
        observation(m, r, ctx)
    for g in groups:
        if g.rxa is not None:
            immunization(m, g)


NO_NUMBER = "9999"
"""ORC-3 of a refused or historical immunization in the CDC immunization guide: no number."""


def immunization_key(m: MessageMapper, g: Administration, rxa: Segment) -> str:
    filler = entity(g.orc, 3)
    if filler and filler != NO_NUMBER:
        return f"filler:{filler}"
    return f"{m.patient_key}|{code_key(m, first(rxa, 5))}|{rxa.get(3, 1) or ''}"


def immunization(m: MessageMapper, g: Administration) -> None:
    rxa = g.rxa
    assert rxa is not None
    vaccine = m.codeable(first(rxa, 5))
    if vaccine is None:
        m.problem(rxa, "5", "RXA-5 (administered code) is empty: no Immunization can be made")
        return
    if m.patient_reference is None:
        m.problem(rxa, "", "an immunization without a patient (no PID-3): no Immunization can be made")
        return
    occurred = m.datetime(rxa, 3)
    if occurred is None:
        m.problem(rxa, "3", "RXA-3 (date/time start of administration) is empty or not a date: no Immunization can be made")
        return
    key = immunization_key(m, g, rxa)
    body: dict[str, Any] = {}
    numbers = ((n, t) for n, t in ((2, "PLAC"), (3, "FILL")) if entity(g.orc, n) not in (None, NO_NUMBER))
    ids = [i for i in (m.entity_identifier(first(g.orc, n), t) for n, t in numbers) if i]
    if ids:
        body["identifier"] = ids
    body.update(status(m, rxa))
    body["vaccineCode"] = vaccine
    body["patient"] = m.patient_reference
    if m.encounter_reference:
        body["encounter"] = m.encounter_reference
    body["occurrenceDateTime"] = occurred
    recorded = m.datetime(rxa, 22)
    if recorded:
        body["recorded"] = recorded
    body.update(origin(m, rxa))
    details(m, rxa, g, body)
    body.update(from_observations(m, g.results))
    ref = m.add("Immunization", key, body)
    obs_ctx = ObservationContext(key, part_of={"reference": ref})
    for r in g.results:
        observation(m, r, obs_ctx)
    m.use(g.orc, rxa, *g.routes[:1])


def status(m: MessageMapper, rxa: Segment) -> dict[str, Any]:
    if (rxa.get(21, 1) or "").upper() == "D":
        return {"status": "entered-in-error"}
    code = (rxa.get(20, 1) or "CP").upper()
    value = COMPLETION.get(code)
    if value is None:
        m.problem(rxa, "20", f"`{code}` is not a completion status (table 0322: CP, PA, RE, NA); status `completed` is used")
        value = "completed"
    out: dict[str, Any] = {"status": value}
    reason = m.codeable(first(rxa, 18)) if value == "not-done" else None
    if reason:
        out["statusReason"] = reason
    return out


def origin(m: MessageMapper, rxa: Segment) -> dict[str, Any]:
    """RXA-9 (administration notes, NIP001): `00` new immunization record (primary source),
    `01`–`08` historical records from other sources (`reportOrigin`)."""
    raw = first(rxa, 9)
    code = split_components(raw, m.msg)[0] if raw else None
    if not code:
        return {}
    if code == "00":
        return {"primarySource": True}
    concept = m.codeable(raw)
    return {"primarySource": False, **({"reportOrigin": concept} if concept else {})}


def details(m: MessageMapper, rxa: Segment, g: Administration, body: dict[str, Any]) -> None:
    place = m.location(first(rxa, 11)) if first(rxa, 11) else None
    if place:
        body["location"] = place
    maker = manufacturer(m, first(rxa, 17))
    if maker:
        body["manufacturer"] = maker
    lot = rxa.get(15)
    if lot:
        body["lotNumber"] = lot
    expires = m.date(rxa, 16)
    if expires:
        body["expirationDate"] = expires
    if g.routes:
        for k, n, table in (("site", 2, "0163"), ("route", 1, "0162")):
            concept = with_table(m.codeable(first(g.routes[0], n)), table)
            if concept:
                body[k] = concept
    amount = rxa.get(6)
    value = number(amount) if amount else None
    if amount and value is None:
        m.problem(rxa, "6", f"`{amount}` is not a number (NM: an optional sign, digits and a decimal point)")
    if value is not None and value != 999:
        body["doseQuantity"] = quantity(value, unit_of(m, first(rxa, 7)))
    performers = []
    for n, function, seg in ((10, "AP", rxa), (12, "OP", g.orc)):
        actor = m.practitioner(first(seg, n)) if first(seg, n) else None
        if actor:
            role = {"coding": [{"system": FUNCTION_SYSTEM, "code": function}]}
            performers.append({"function": role, "actor": actor})
    if performers:
        body["performer"] = performers
    reasons = [r for r in (m.codeable(raw) for raw in rxa.repetitions(19)) if r]
    if reasons:
        body["reasonCode"] = reasons
    if (rxa.get(20, 1) or "").upper() == "PA":
        body["isSubpotent"] = True


def manufacturer(m: MessageMapper, raw: str) -> dict[str, Any] | None:
    """RXA-17 (a CE: MVX code ^ name ^ MVX) as a reference to an Organization."""
    c = split_components(raw, m.msg) if raw else []
    code = c[0] if c else None
    name = c[1] if len(c) > 1 else None
    if not code and not name:
        return None
    body: dict[str, Any] = {"active": True}
    if code:
        system = (c[2] if len(c) > 2 else None) or "MVX"
        body["identifier"] = [{"system": CODE_SYSTEMS.get(system.upper(), f"{m.ctx.system}/codes/{system}"), "value": code}]
    if name:
        body["name"] = name
    ref = m.add("Organization", f"manufacturer:{code or name}", body, patient=False)
    return {"reference": ref, **({"display": name} if name else {})}


def from_observations(m: MessageMapper, results: list[Result]) -> dict[str, Any]:
    """Funding source, program eligibility and vaccine information statements from the OBX."""
    out: dict[str, Any] = {}
    statements: dict[str, dict[str, Any]] = {}
    for r in results:
        obx = r.obx
        loinc = _loinc(m, first(obx, 3))
        value = first(obx, 5)
        if not loinc or not value:
            continue
        if loinc == FUNDING_SOURCE and "fundingSource" not in out:
            out["fundingSource"] = m.codeable(value)
        elif loinc == ELIGIBILITY:
            concept = m.codeable(value)
            if concept:
                out.setdefault("programEligibility", []).append(concept)
        elif loinc in (VIS_DOCUMENT, VIS_PUBLISHED, VIS_PRESENTED, VIS_VACCINE):
            vis = statements.setdefault(obx.get(4) or "", {})
            if loinc in (VIS_DOCUMENT, VIS_VACCINE):
                c = split_components(value, m.msg)
                text = (c[1] if len(c) > 1 else None) or c[0]
                if text and (loinc == VIS_DOCUMENT or "documentType" not in vis):
                    vis["documentType"] = text
            elif (obx.get(2, 1) or "").upper() in DATE_TYPES:
                when = m.datetime(obx, 5)
                if when:
                    vis["publicationDate" if loinc == VIS_PUBLISHED else "presentationDate"] = when
    education = [v for v in statements.values() if "documentType" in v]
    if education:
        out["education"] = education
    return {k: v for k, v in out.items() if v}


def _loinc(m: MessageMapper, raw: str) -> str | None:
    concept = m.codeable(raw) if raw else None
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == CODE_SYSTEMS["LN"]:
            code: str = coding["code"]
            return code
    return None
