"""PV1 (+ PV2) → Encounter.

Key: PV1-19, the visit number (`value`, or `value^authority` when CX.4 names one). A PV1
without a visit number is keyed by the patient and PV1-44 as sent (`<patient key>|admit|<PV1-44>`),
so that the admit, transfer and discharge of one stay still agree; with neither there is no
Encounter (a problem, in an ADT message).

Only ADT messages write the Encounter: they are the ones that state where a visit stands. Other
messages (SIU, DFT, ORU …) only set `m.encounter_key`, so what they map refers to the visit — a
charge posted after the discharge must not turn a finished Encounter back into an open one. The
person-level ADT events (A28, A31, A40 … in `PERSON_EVENTS`) write no Encounter either, and an
event that does not itself move the visit (A08 …) restates it only when its PV1 carries the
admit time (PV1-44): an A08 sent for an address change with a bare PV1 refers to the visit
without reopening it.

- status from the event (`EVENT_STATUS`: A01/A04 in-progress, A05 planned, A03 finished, A11
  entered-in-error, A13 back to in-progress …); other events (A08 …) from the content: a
  discharge time means finished, class P planned, else in-progress
- class: PV1-2 (table 0004) → v3-ActCode; type: PV1-4; serviceType: PV1-10; priority: PV2-25
- participant: PV1-7 ATND, PV1-8 REF, PV1-9 CON, PV1-17 ADM (Practitioners)
- period: PV1-44 … PV1-45 (no end after A13, the cancelled discharge)
- location: PV1-3 (active; completed once finished) and PV1-6, the prior location (completed);
  in an A02 the transfer time (EVN-6, else EVN-2) ends the one and starts the other
- hospitalization: PV1-5 pre-admission number, PV1-14 admitSource, PV1-13 reAdmission, PV1-38
  diet, PV1-36 dischargeDisposition (codes as sent, plus the FHIR code where one fits)
- reasonCode: PV2-3; identifier: PV1-19 (type VN) and PV1-50

Not mapped: PV1-11/42/43 (temporary, pending and prior temporary locations), PV1-15/16
(ambulatory status, VIP), PV1-18 patient type, PV1-20 … PV1-35 (financial), PV1-37 discharged
to location, PV1-39 … PV1-41, PV1-46 … PV1-49 (balances), PV1-51/52; PV2 other than 3 and 25.
"""

from __future__ import annotations

from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper, following, with_table

PERSON_EVENTS = frozenset(
    {"A24", "A28", "A29", "A30", "A31", "A34", "A35", "A36", "A37", "A39", "A40", "A41", "A46", "A47", "A48", "A49"}
)
"""ADT events about the person (registration, merges, links): no Encounter."""

EVENT_STATUS = {
    "A01": "in-progress", "A02": "in-progress", "A03": "finished", "A04": "in-progress",
    "A05": "planned", "A06": "in-progress", "A07": "in-progress", "A09": "in-progress",
    "A10": "in-progress", "A11": "entered-in-error", "A12": "in-progress", "A13": "in-progress",
    "A14": "planned", "A15": "in-progress", "A16": "in-progress", "A21": "onleave",
    "A22": "in-progress", "A25": "in-progress", "A26": "in-progress", "A27": "cancelled",
    "A32": "in-progress", "A33": "in-progress", "A38": "cancelled", "A52": "in-progress",
    "A53": "onleave",
}  # fmt: skip
"""ADT trigger → Encounter.status; other events take it from the PV1."""

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
CLASS = {
    "E": (ACT_CODE, "EMER", "emergency"), "I": (ACT_CODE, "IMP", "inpatient encounter"),
    "O": (ACT_CODE, "AMB", "ambulatory"), "P": (ACT_CODE, "PRENC", "pre-admission"),
    "R": (ACT_CODE, "AMB", "ambulatory"), "B": (ACT_CODE, "AMB", "ambulatory"),
    "C": (NULL_FLAVOR, "OTH", "other"), "N": (NULL_FLAVOR, "NA", "not applicable"),
    "U": (NULL_FLAVOR, "UNK", "unknown"),
}  # fmt: skip
"""Patient class (table 0004) → Encounter.class (v3-ActCode; no such class: v3-NullFlavor)."""

PARTICIPANTS = ((7, "ATND", "attender"), (8, "REF", "referrer"), (9, "CON", "consultant"), (17, "ADM", "admitter"))

ADMIT_SOURCE = {
    "1": ("mp", "Medical Practitioner/physician referral"), "2": ("outp", "From outpatient department"),
    "3": ("other", "Other"), "4": ("hosp-trans", "Transferred from other hospital"),
    "5": ("nursing", "From nursing home"), "6": ("other", "Other"),
    "7": ("emd", "From accident/emergency department"), "8": ("other", "Other"),
}  # fmt: skip
"""Admit source (table 0023, as UB-04 point of origin) → FHIR admit-source."""

DISPOSITION = {
    "01": ("home", "Home"), "02": ("other-hcf", "Other healthcare facility"),
    "03": ("snf", "Skilled nursing facility"), "04": ("long", "Long-term care"),
    "05": ("other-hcf", "Other healthcare facility"), "06": ("home", "Home"),
    "07": ("aadvice", "Left against advice"), "20": ("exp", "Expired"), "21": ("oth", "Other"),
    "40": ("exp", "Expired"), "41": ("exp", "Expired"), "42": ("exp", "Expired"),
    "43": ("other-hcf", "Other healthcare facility"), "50": ("hosp", "Hospice"),
    "51": ("hosp", "Hospice"), "61": ("other-hcf", "Other healthcare facility"),
    "62": ("rehab", "Rehabilitation"), "63": ("long", "Long-term care"),
    "64": ("snf", "Skilled nursing facility"), "65": ("psy", "Psychiatric hospital"),
    "66": ("other-hcf", "Other healthcare facility"), "70": ("other-hcf", "Other healthcare facility"),
}  # fmt: skip
"""Discharge disposition (table 0112, as UB-04 patient status) → FHIR discharge-disposition."""

PRIORITY = {"1": ("EM", "emergency"), "2": ("UR", "urgent"), "3": ("EL", "elective")}
"""Visit priority (table 0217) → v3-ActPriority."""


def event_of(m: MessageMapper) -> str:
    """The trigger event: MSH-9.2, else EVN-1."""
    evn = m.msg.segment("EVN")
    return (m.msg.trigger or (evn.get(1) if evn else None) or "").upper()


def encounter_key(m: MessageMapper, pv1: Segment) -> str | None:
    visit = pv1.get(19, 1)
    if visit:
        authority = pv1.get(19, 4, 1)
        return f"{visit}^{authority}" if authority else visit
    admitted = pv1.get(44, 1)
    if admitted and m.patient_key:
        return f"{m.patient_key}|admit|{admitted}"
    return None


def map_encounter(m: MessageMapper, pv1: Segment) -> None:
    """Set `m.encounter_key` from the PV1 and, in an ADT message, add the Encounter."""
    event = event_of(m)
    writes = (
        (m.msg.message_type or "").upper() == "ADT"
        and event not in PERSON_EVENTS
        and (event in EVENT_STATUS or pv1.get(44, 1) is not None)
    )
    key = encounter_key(m, pv1)
    if key is None:
        if writes:
            m.problem(pv1, "19", "PV1-19 (visit number) and PV1-44 (admit date/time) are both empty: no Encounter can be made")
        elif not any(pv1.get(n) for n in range(3, len(pv1.fields))):
            m.use(pv1)  # the empty PV1 of a person-level event
        return
    m.encounter_key = key
    m.use(pv1)
    if not writes:
        return
    pv2 = next(iter(following(m.msg, pv1, "PV2", ("PID", "PV1"))), None)
    m.use(pv2)
    m.add("Encounter", key, encounter_body(m, pv1, pv2, event))


def encounter_body(m: MessageMapper, pv1: Segment, pv2: Segment | None, event: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    visit = m.identifier(pv1.field(19))
    if visit and "type" not in visit:
        visit = {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "VN"}]}, **visit}
    ids = [i for i in (visit, *(m.identifier(r) for r in pv1.repetitions(50))) if i]
    if ids:
        body["identifier"] = ids
    discharged = m.datetime(pv1, 45) if event != "A13" else None
    status = EVENT_STATUS.get(event)
    if status is None:
        status = "finished" if discharged else "planned" if pv1.get(2) == "P" else "in-progress"
    body["status"] = status
    body["class"] = _class(m, pv1)
    for key, value in (
        ("type", _list(with_table(m.codeable(pv1.field(4)), "0007"))),
        ("serviceType", with_table(m.codeable(pv1.field(10)), "0069")),
        ("priority", _priority(m, pv2)),
        ("subject", m.patient_reference),
        ("participant", _participants(m, pv1)),
        ("period", _period(m.datetime(pv1, 44), discharged)),
        ("reasonCode", _list(m.codeable(pv2.field(3)) if pv2 else None)),
        ("hospitalization", _hospitalization(m, pv1, event)),
        ("location", _locations(m, pv1, event, status)),
    ):
        if value:
            body[key] = value
    return body


def _list(value: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return [value] if value else None


def _period(start: str | None, end: str | None) -> dict[str, str] | None:
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    return period or None


def _class(m: MessageMapper, pv1: Segment) -> dict[str, str]:
    code = (pv1.get(2) or "").upper()
    found = CLASS.get(code)
    if found is None:
        if code:
            m.problem(pv1, "2", f"`{pv1.get(2)}` is not a patient class (table 0004: B, C, E, I, N, O, P, R, U)")
        found = CLASS["U"]
    system, value, display = found
    return {"system": system, "code": value, "display": display}


def _priority(m: MessageMapper, pv2: Segment | None) -> dict[str, Any] | None:
    sent = with_table(m.codeable(pv2.field(25)), "0217") if pv2 else None
    if not sent or pv2 is None:
        return None
    found = PRIORITY.get(pv2.get(25, 1) or "")
    if found is None:
        return sent
    coding = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority", "code": found[0], "display": found[1]}
    return {**sent, "coding": [coding, *sent["coding"]]}


def _participants(m: MessageMapper, pv1: Segment) -> list[dict[str, Any]]:
    out = []
    for n, code, display in PARTICIPANTS:
        for raw in pv1.repetitions(n):
            who = m.practitioner(raw)
            if who:
                kind = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": code, "display": display}
                out.append({"type": [{"coding": [kind]}], "individual": who})
    return out


def _coded(m: MessageMapper, seg: Segment, n: int, table: str, known: dict[str, tuple[str, str]], system: str) -> dict[str, Any] | None:
    """A coded field as sent (with its table's system), led by the FHIR code when one fits."""
    sent = with_table(m.codeable(seg.field(n)), table)
    if not sent:
        return None
    code = seg.get(n, 1) or ""
    found = known.get(code.zfill(2) if table == "0112" and code.isdigit() else code)
    if found is None:
        return sent
    return {**sent, "coding": [{"system": system, "code": found[0], "display": found[1]}, *sent["coding"]]}


def _hospitalization(m: MessageMapper, pv1: Segment, event: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pre = m.identifier(pv1.field(5))
    if pre:
        out["preAdmissionIdentifier"] = pre
    source = _coded(m, pv1, 14, "0023", ADMIT_SOURCE, "http://terminology.hl7.org/CodeSystem/admit-source")
    if source:
        out["admitSource"] = source
    readmission = with_table(m.codeable(pv1.field(13)), "0092")
    if readmission:
        out["reAdmission"] = readmission
    diets = [d for d in (m.codeable(r) for r in pv1.repetitions(38)) if d]
    if diets:
        out["dietPreference"] = diets
    if event != "A13":  # the discharge is cancelled
        disposition = _coded(m, pv1, 36, "0112", DISPOSITION, "http://terminology.hl7.org/CodeSystem/discharge-disposition")
        if disposition:
            out["dischargeDisposition"] = disposition
    return out


def _locations(m: MessageMapper, pv1: Segment, event: str, status: str) -> list[dict[str, Any]]:
    current = m.location(pv1.field(3))
    prior = m.location(pv1.field(6)) if event != "A12" else None
    moved = None
    if event == "A02":
        evn = m.msg.segment("EVN")
        moved = (m.datetime(evn, 6) or m.datetime(evn, 2)) if evn else None
    out = []
    if prior and (current is None or prior["reference"] != current["reference"]):
        entry: dict[str, Any] = {"location": prior, "status": "completed"}
        if moved:
            entry["period"] = {"end": moved}
        out.append(entry)
    if current:
        entry = {"location": current, "status": "completed" if status == "finished" else "active"}
        if moved:
            entry["period"] = {"start": moved}
        out.append(entry)
    return out
