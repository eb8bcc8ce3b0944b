"""OBR/OBX groups and OBX → Observation: what the result (ORU, OUL) and order (ORM, OML, OMG)
mappings share, and what VXU and RDE use for their observations.

An order group is an ORC and/or OBR with the TQ1, DG1, SPM, NTE and OBX segments that follow
it; an OBX takes the NTEs after it as notes. Keys follow the order: an Observation is
`<order>|<OBX-3 code>|<OBX-4 sub-id>`, where `<order>` is the filler order number (OBR-3,
else ORC-3), else the placer number (OBR-2, else ORC-2), else the message control id; so a
correction (OBX-11 = C) of the same test of the same order becomes a new version of the same
Observation. The value conversions live in `hl7v2_values`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from medlake.formats.hl7v2 import Message, Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper, split_components
from medlake.silver.mappings.hl7v2_values import obx_value, quantity_unit, reference_range

OBSERVATION_STATUS = {
    "C": "corrected",
    "D": "entered-in-error",
    "F": "final",
    "I": "registered",
    "N": "cancelled",
    "O": "registered",
    "P": "preliminary",
    "R": "preliminary",
    "S": "preliminary",
    "U": "final",
    "W": "entered-in-error",
    "X": "cancelled",
    "A": "amended",
    "B": "amended",
}
"""HL7 table 0085 (observation result status, OBX-11) → FHIR Observation.status."""

INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

INTERPRETATION = {
    "L": "Low", "H": "High", "LL": "Critical low", "HH": "Critical high", "<": "Off scale low",
    ">": "Off scale high", "N": "Normal", "A": "Abnormal", "AA": "Critical abnormal",
    "U": "Significant change up", "D": "Significant change down", "B": "Better", "W": "Worse",
    "S": "Susceptible", "R": "Resistant", "I": "Intermediate", "MS": "Moderately susceptible",
    "VS": "Very susceptible", "POS": "Positive", "NEG": "Negative", "IND": "Indeterminate",
    "DET": "Detected", "ND": "Not detected", "AC": "Anti-complementary substances present",
    "RR": "Reactive", "WR": "Weakly reactive", "NR": "Non-reactive", "QCF": "Quality control failure",
    "TOX": "Cytotoxic substance present", "E": "Equivocal", "EX": "outside threshold",
    "HX": "above high threshold", "LX": "below low threshold", "HU": "Significantly high",
    "LU": "Significantly low", "SDD": "Susceptible-dose dependent", "SYN-R": "Synergy - resistant",
    "SYN-S": "Synergy - susceptible", "NS": "Non-susceptible", "IE": "Insufficient evidence",
    "EXP": "Expected", "UNE": "Unexpected", "CAR": "Carrier", "NCL": "No CLSI defined breakpoint",
}  # fmt: skip
"""HL7 table 0078 (OBX-8 interpretation codes) that are also v3 ObservationInterpretation
codes (the same code), with the v3 display."""

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
LABORATORY = [{"coding": [{"system": CATEGORY_SYSTEM, "code": "laboratory", "display": "Laboratory"}]}]

NOT_OBSERVATIONS = frozenset({"ED", "RP"})
"""OBX value types that are documents or pointers to them, not observation values (FHIR R4
has no `valueAttachment`): the result mapping makes them `DiagnosticReport.presentedForm`."""


@dataclass
class Result:
    """An OBX, the NTEs after it, and the SPM it follows in its group (if any)."""

    obx: Segment
    notes: list[Segment] = field(default_factory=list)
    specimen: Segment | None = None


@dataclass
class Order:
    """An ORC and/or OBR with the segments that belong to it."""

    index: int
    """1-based position among the orders of the message (keys fall back to it)."""
    orc: Segment | None = None
    obr: Segment | None = None
    notes: list[Segment] = field(default_factory=list)
    timing: list[Segment] = field(default_factory=list)
    diagnoses: list[Segment] = field(default_factory=list)
    specimens: list[Segment] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)


@dataclass
class Groups:
    orders: list[Order] = field(default_factory=list)
    loose: list[Result] = field(default_factory=list)
    """OBX outside any order: patient- or specimen-level observations."""
    second_patient: Segment | None = None
    """A second PID: the message holds more than one patient and the rest is not mapped."""


SECOND_PATIENT = "a second patient (PID) in one message: what follows it is not mapped (one patient per message)"


def one_patient(m: MessageMapper) -> Iterator[Segment]:
    """The segments of a message up to a second PID (which is reported): everything the
    mappings make is about the message's first patient."""
    patients = 0
    for seg in m.msg:
        if seg.id == "PID":
            patients += 1
            if patients > 1:
                m.problem(seg, "", SECOND_PATIENT)
                return
        yield seg


def order_groups(msg: Message, orc_after_obr: bool = False) -> Groups:
    """Split a message into order groups, in segment order.

    `orc_after_obr`: an ORC right after an OBR (before its results) belongs to that OBR, as in
    OUL (the ORC is optional and follows the OBR there); elsewhere an ORC starts a new order.
    An SPM before any order (OUL^R22) applies to the orders that follow it.
    """
    out = Groups()
    cur: Order | None = None
    last: Order | Result | None = None
    spm: Segment | None = None
    pending: list[Segment] = []
    patients = 0
    for seg in msg:
        sid = seg.id
        if sid == "PID":
            patients += 1
            if patients > 1:
                out.second_patient = seg
                break
        elif sid == "ORC":
            if orc_after_obr and cur is not None and cur.obr is not None and cur.orc is None and not cur.results:
                cur.orc = seg
            else:
                cur = Order(len(out.orders) + 1, orc=seg, specimens=list(pending))
                out.orders.append(cur)
            last, spm = cur, None
        elif sid == "OBR":
            if cur is None or cur.obr is not None:
                cur = Order(len(out.orders) + 1, specimens=list(pending))
                out.orders.append(cur)
            cur.obr = seg
            last, spm = cur, None
        elif sid == "OBX":
            r = Result(seg, specimen=spm or (pending[-1] if cur is None and pending else None))
            (cur.results if cur is not None else out.loose).append(r)
            last = r
        elif sid == "NTE":
            if last is not None:
                last.notes.append(seg)
        elif sid == "SPM":
            if cur is None:
                pending.append(seg)
            else:
                cur.specimens.append(seg)
            spm, last = seg, None
        elif sid == "TQ1" and cur is not None:
            cur.timing.append(seg)
        elif sid == "DG1" and cur is not None:
            cur.diagnoses.append(seg)
    return out


# -- keys ------------------------------------------------------------------------------------
def entity(seg: Segment | None, n: int) -> str | None:
    """EI.1 (entity identifier) of field `n`: an order or document number."""
    return seg.get(n, 1) if seg is not None else None


def code_key(m: MessageMapper, raw: str) -> str:
    """The part of a key a CE/CWE gives: `code^coding system` of its first triplet that has a
    code (the alternate when the primary is empty), else its text."""
    c = split_components(raw, m.msg) if raw else []
    for code_i, sys_i in ((0, 2), (3, 5)):
        code = c[code_i] if len(c) > code_i else None
        if code:
            system = c[sys_i] if len(c) > sys_i else None
            return f"{code}^{system}" if system else code
    return (c[1] if len(c) > 1 else None) or ""


def control_key(m: MessageMapper) -> str:
    """The key part of things that have no number of their own: the message control id."""
    return f"message:{m.msg.control_id or f'record {m.record_index}'}"


def result_base(m: MessageMapper, order: Order) -> str:
    """The order part of Observation and DiagnosticReport keys: filler number, else placer
    number, else the message control id and the order's position."""
    filler = entity(order.obr, 3) or entity(order.orc, 3)
    if filler:
        return f"filler:{filler}"
    placer = entity(order.obr, 2) or entity(order.orc, 2)
    if placer:
        return f"placer:{placer}"
    return f"{control_key(m)}#{order.index}"


def request_key(m: MessageMapper, order: Order) -> str:
    """The key of the ServiceRequest (or MedicationRequest) of an order: the placer order
    number (ORC-2, else OBR-2); else the filler number or the message control id."""
    placer = entity(order.orc, 2) or entity(order.obr, 2)
    if placer:
        return placer
    filler = entity(order.orc, 3) or entity(order.obr, 3)
    if filler:
        return f"filler:{filler}"
    return f"{control_key(m)}#{order.index}"


def order_identifiers(m: MessageMapper, order: Order) -> list[dict[str, Any]]:
    """Placer (PLAC) and filler (FILL) order numbers as Identifiers."""
    out = []
    for n, type_code in ((2, "PLAC"), (3, "FILL")):
        for seg in (order.orc, order.obr):
            raw = seg.repetitions(n)[0] if seg is not None and seg.repetitions(n) else ""
            ident = m.entity_identifier(raw, type_code) if raw else None
            if ident:
                out.append(ident)
                break
    return out


def instant(value: str | None) -> str | None:
    """A FHIR dateTime that is also an instant (has a time), else `None`."""
    return value if value and "T" in value else None


def first(seg: Segment | None, n: int) -> str:
    """The raw first repetition of field `n` ("" when empty)."""
    reps = seg.repetitions(n) if seg is not None else []
    return reps[0] if reps else ""


# -- order state (ORC-1, ORC-5) ----------------------------------------------------------------
CONTROL_STATE = {
    "CA": "cancelled", "OC": "cancelled", "CR": "cancelled",
    "DC": "discontinued", "OD": "discontinued", "DR": "discontinued",
    "HD": "on-hold", "OH": "on-hold", "HR": "on-hold",
}  # fmt: skip
"""Order controls (table 0119) that say the state of the order themselves."""

CONTROLS = frozenset({
    "AF", "CH", "CN", "DE", "DF", "FU", "LI", "MC", "NA", "NW", "OE", "OF", "OK", "OP", "OR", "PA",
    "PR", "PY", "RE", "RF", "RL", "RO", "RP", "RQ", "RR", "RU", "SC", "SN", "SR", "SS", "UA", "UC",
    "UD", "UF", "UH", "UM", "UN", "UR", "UX", "XO", "XR", "XX",
})  # fmt: skip
"""The other order controls of table 0119: the state is ORC-5's, or active."""

ORDER_STATUS = {
    "A": "active", "CA": "cancelled", "CM": "completed", "DC": "discontinued", "ER": "entered-in-error",
    "HD": "on-hold", "IP": "active", "RP": "discontinued", "SC": "active",
}  # fmt: skip
"""HL7 table 0038 (order status, ORC-5) → the order's state."""


NEW_ORDER = frozenset({"NW", "SN", "NA", "PA", "CH", "RO"})
"""Order controls of a new order: only then is ORC-9 (date/time of transaction) when the
order was authored; for a cancel or a status change it is when that happened."""


def authored(m: MessageMapper, orc: Segment | None) -> str | None:
    """ORC-9 of a new order (see `NEW_ORDER`)."""
    if orc is None or (orc.get(1, 1) or "").upper() not in NEW_ORDER:
        return None
    return m.datetime(orc, 9)


def order_state(m: MessageMapper, orc: Segment | None) -> str:
    """The state of an order from ORC-1 and ORC-5: active, on-hold, cancelled, discontinued,
    completed, entered-in-error or unknown."""
    if orc is None:
        return "unknown"
    control = (orc.get(1, 1) or "").upper()
    if control in CONTROL_STATE:
        return CONTROL_STATE[control]
    status = (orc.get(5, 1) or "").upper()
    if status:
        if status in ORDER_STATUS:
            return ORDER_STATUS[status]
        m.problem(orc, "5", f"`{status}` is not an order status (table 0038: A, CA, CM, DC, ER, HD, IP, RP, SC)")
    if control in CONTROLS:
        return "active"
    if control:
        m.problem(orc, "1", f"`{control}` is not an order control code (table 0119, e.g. NW new, CA cancel, DC discontinue, SC status changed)")
    return "unknown"


# -- OBX → Observation -------------------------------------------------------------------------
@dataclass
class ObservationContext:
    """What an OBX takes from the group it is in."""

    base: str
    """The key prefix: order number (or immunization, prescription …)."""
    effective: str | None = None
    """OBR-7, used when OBX-14 is empty."""
    issued: str | None = None
    category: list[dict[str, Any]] | None = None
    specimen: dict[str, Any] | None = None
    part_of: dict[str, Any] | None = None
    seen: Counter[str] = field(default_factory=Counter)
    """Keys given so far in this group: a repeated OBX-3/OBX-4 gets `#2`, `#3` …"""
    performers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The performers of the observations made so far, by reference (the report's)."""


def observation(m: MessageMapper, r: Result, ctx: ObservationContext) -> str | None:
    """Add the Observation of one OBX (and mark it and its notes used); returns its reference,
    or `None` when the OBX has no observation identifier (OBX-3)."""
    obx = r.obx
    code_raw = first(obx, 3)
    concept = m.codeable(code_raw) if code_raw else None
    if concept is None:
        m.problem(obx, "3", "OBX-3 (observation identifier) is empty: no Observation can be made")
        return None
    key = f"{ctx.base}|{code_key(m, code_raw)}|{obx.get(4) or ''}"
    ctx.seen[key] += 1
    if ctx.seen[key] > 1:
        key += f"#{ctx.seen[key]}"
    body: dict[str, Any] = {"status": result_status(m, obx)}
    if ctx.part_of:
        body["partOf"] = [ctx.part_of]
    if ctx.category:
        body["category"] = ctx.category
    body["code"] = concept
    for k, v in (("subject", m.patient_reference), ("encounter", m.encounter_reference)):
        if v:
            body[k] = v
    effective = m.datetime(obx, 14) or ctx.effective
    if effective:
        body["effectiveDateTime"] = effective
    if ctx.issued:
        body["issued"] = ctx.issued
    performers = observation_performers(m, obx)
    if performers:
        body["performer"] = performers
        for p in performers:
            ctx.performers.setdefault(p["reference"], p)
    body.update(obx_value(m, obx))
    interpretation = interpretations(obx)
    if interpretation:
        body["interpretation"] = interpretation
    notes = note_annotations(r.notes)
    if notes:
        body["note"] = notes
    method = m.codeable(first(obx, 17))
    if method:
        body["method"] = method
    specimen = m.reference("Specimen", specimen_key(m, r.specimen, ctx.base)) if r.specimen is not None else ctx.specimen
    if specimen:
        body["specimen"] = specimen
    ref_range = reference_range(obx, quantity_unit(m, obx))
    if ref_range:
        body["referenceRange"] = [ref_range]
    m.use(obx, *r.notes)
    return m.add("Observation", key, body)


def result_status(m: MessageMapper, obx: Segment) -> str:
    code = (obx.get(11, 1) or "").upper()
    if not code:
        return "unknown"
    status = OBSERVATION_STATUS.get(code)
    if status is None:
        m.problem(obx, "11", f"`{code}` is not an observation result status (table 0085: C, D, F, I, N, O, P, R, S, U, W, X); status `unknown` is used")
        return "unknown"
    return status


def interpretations(obx: Segment) -> list[dict[str, Any]]:
    """OBX-8 (table 0078) as v3 ObservationInterpretation; other codes keep the v2 table."""
    out = []
    for raw in obx.repetitions(8):
        code = split_components(raw, obx)[0]
        if not code:
            continue
        if code.upper() in INTERPRETATION:
            code = code.upper()
            out.append({"coding": [{"system": INTERPRETATION_SYSTEM, "code": code, "display": INTERPRETATION[code]}]})
        else:
            out.append({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0078", "code": code}]})
    return out


def observation_performers(m: MessageMapper, obx: Segment) -> list[dict[str, Any]]:
    """OBX-16 responsible observers (Practitioner) and OBX-23 performing organization."""
    out = [p for p in (m.practitioner(raw) for raw in obx.repetitions(16)) if p]
    org = m.organization(first(obx, 23)) if first(obx, 23) else None
    if org:
        out.append(org)
    return out


def note_annotations(notes: list[Segment]) -> list[dict[str, Any]]:
    """NTE-3 comments (formatted text, repetitions are lines) as Annotations."""
    out = []
    for nte in notes:
        lines = [nte.get(3, rep=i, text=True) or "" for i in range(1, len(nte.repetitions(3)) + 1)]
        text = "\n".join(lines).strip()
        if text:
            out.append({"text": text})
    return out


# -- SPM → Specimen ----------------------------------------------------------------------------
def specimen_key(m: MessageMapper, spm: Segment, base: str) -> str:
    """SPM-2 (specimen id: placer or filler assigned), else the order and SPM-1."""
    raw = first(spm, 2)
    if raw:
        d = m.msg.delimiters
        for part in raw.split(d.component)[:2]:
            ident = part.split(d.subcomponent)[0]
            if ident:
                return f"specimen:{ident}"
    return f"{base}|specimen {spm.get(1) or spm.index}"


def specimen(m: MessageMapper, spm: Segment, base: str) -> dict[str, Any]:
    """Add the Specimen of an SPM; returns a reference to it."""
    key = specimen_key(m, spm, base)
    body: dict[str, Any] = {}
    d = m.msg.delimiters
    ids = []
    for part, type_code in zip(first(spm, 2).split(d.component)[:2], ("PLAC", "FILL"), strict=False):
        ident = m.entity_identifier(part.replace(d.subcomponent, d.component), type_code) if part else None
        if ident:
            ids.append(ident)
    if ids:
        body["identifier"] = ids
    kind = m.codeable(first(spm, 4))
    if kind:
        body["type"] = kind
    if m.patient_reference:
        body["subject"] = m.patient_reference
    received = m.datetime(spm, 18)
    if received and "T" in received:
        body["receivedTime"] = received
    collection: dict[str, Any] = {}
    collected = m.datetime(spm, 17)
    if collected:
        collection["collectedDateTime"] = collected
    for k, n in (("method", 7), ("bodySite", 8)):
        concept = m.codeable(first(spm, n))
        if concept:
            collection[k] = concept
    if collection:
        body["collection"] = collection
    m.use(spm)
    return {"reference": m.add("Specimen", key, body)}
