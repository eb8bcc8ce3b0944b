"""RDE^O11/O25, OMP^O09, RDS^O13 → a MedicationRequest per order (ORC + RXO/RXE), and for
RDS a MedicationDispense per RXD.

MedicationRequest: key = the placer order number (ORC-2), status from ORC-1/ORC-5, intent
`order`, medication RXE-2 (give code, else RXO-1 requested give code), authoredOn ORC-9 (new orders),
requester ORC-12, reasonCode RXE-27 / RXO-20, notes NTE, observations OBX
(`supportingInformation`), one dosage: text RXE-7 (RXO-7), timing TQ1 (else RXE-1 / ORC-7,
the older quantity/timing), route/site/method RXR-1/2/4, dose RXE-3..5 (RXO-2..4), rate
RXE-23/24; dispenseRequest quantity RXE-10/11 (RXO-11/12), refills RXE-12 (RXO-13);
substitution RXO-9.

MedicationDispense (RDS): status `completed`, medication RXD-2, quantity RXD-4/5, handed over
RXD-3, prescription number RXD-7, dispensing provider RXD-10, authorizing the order's request.

Not mapped: RXC (components of a compound), CDO, FT1, BLG, CTI, PRT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper, split_components, with_table
from medlake.silver.mappings.hl7v2_results import (
    ObservationContext,
    Order,
    Result,
    authored,
    control_key,
    first,
    note_annotations,
    observation,
    one_patient,
    order_identifiers,
    order_state,
    request_key,
)
from medlake.silver.mappings.hl7v2_values import UCUM, number, quantity, unit_of

MEDICATION_STATUS = {"cancelled": "cancelled", "discontinued": "stopped"}
"""Order state → MedicationRequest.status where they differ."""

TIME_UNITS = {"S": "s", "M": "min", "H": "h", "D": "d", "W": "wk", "L": "mo"}
"""Units of the `Q<n><unit>` repeat patterns (table 0335) → UCUM / FHIR Timing units."""

_EVERY = re.compile(r"^Q(\d+)([SMHDWL])$")
_TIMES_A_DAY = {"BID": 2, "TID": 3, "QID": 4}
_ONCE_A_DAY = {"QD": None, "QAM": "MORN", "QPM": "EVE", "QHS": "HS"}


@dataclass
class RxOrder:
    """An ORC with its pharmacy segments; RXR and TQ1 go with the RXO, RXE or RXD before them."""

    order: Order
    rxo: Segment | None = None
    rxe: Segment | None = None
    rxd: Segment | None = None
    routes: dict[str, list[Segment]] = field(default_factory=dict)
    timing: dict[str, list[Segment]] = field(default_factory=dict)


def rx_orders(m: MessageMapper) -> tuple[list[RxOrder], list[Result]]:
    """The pharmacy orders of a message, and OBX outside any order."""
    out: list[RxOrder] = []
    loose: list[Result] = []
    cur: RxOrder | None = None
    anchor = "ORC"
    last: Result | RxOrder | None = None
    for seg in one_patient(m):
        sid = seg.id
        if sid == "ORC":
            cur = RxOrder(Order(len(out) + 1, orc=seg))
            out.append(cur)
            anchor, last = "ORC", cur
        elif cur is None:
            if sid == "OBX":
                loose.append(last := Result(seg))
            elif sid == "NTE" and isinstance(last, Result):
                last.notes.append(seg)
        elif sid in ("RXO", "RXE", "RXD"):
            setattr(cur, sid.lower(), seg)
            anchor, last = sid, cur
        elif sid in ("RXR", "TQ1"):
            (cur.routes if sid == "RXR" else cur.timing).setdefault(anchor, []).append(seg)
        elif sid == "OBX":
            cur.order.results.append(last := Result(seg))
        elif sid == "NTE":
            (last.notes if isinstance(last, Result) else cur.order.notes).append(seg)
    return out, loose


def map_message(m: MessageMapper) -> None:
    orders, loose = rx_orders(m)
    ctx = ObservationContext(control_key(m))
    for r in loose:
        observation(m, r, ctx)
    pharmacy_orders(m, orders)


def pharmacy_orders(m: MessageMapper, orders: list[RxOrder]) -> None:
    """The MedicationRequest (and MedicationDispense) of each order with an RXO, RXE or RXD."""
    for rx in orders:
        if rx.rxe is None and rx.rxo is None and rx.rxd is None:
            continue
        request = medication_request(m, rx)
        if rx.rxd is not None:
            dispense(m, rx, request)


def _pick(rx: RxOrder, table: dict[str, list[Segment]]) -> list[Segment]:
    for anchor in ("RXE", "RXO", "ORC"):
        if table.get(anchor):
            return table[anchor]
    return table.get("RXD", [])


def medication_request(m: MessageMapper, rx: RxOrder) -> str | None:
    orc, rxe, rxo = rx.order.orc, rx.rxe, rx.rxo
    key = request_key(m, rx.order)
    if rxe is None and rxo is None:
        return m.ref("MedicationRequest", key)  # a dispense whose order is in another message
    medication = m.codeable(first(rxe, 2)) or m.codeable(first(rxo, 1))
    if medication is None:
        m.problem(rxe or rxo, "2" if rxe else "1", "no medication: neither RXE-2 (give code) nor RXO-1 (requested give code) is valued")
        return None
    if m.patient_reference is None:
        m.problem(orc, "", "a medication order without a patient (no PID-3): no MedicationRequest can be made")
        return None
    body: dict[str, Any] = {}
    ids = order_identifiers(m, rx.order)
    if ids:
        body["identifier"] = ids
    state = order_state(m, orc)
    body["status"] = MEDICATION_STATUS.get(state, state)
    body["intent"] = "order"
    body["medicationCodeableConcept"] = medication
    body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["encounter"] = m.encounter_reference
    when = authored(m, orc)
    if when:
        body["authoredOn"] = when
    requester = m.practitioner(first(orc, 12))
    if requester:
        body["requester"] = requester
    reasons = [m.codeable(raw) for raw in (rxe.repetitions(27) if rxe else rxo.repetitions(20) if rxo else [])]
    if any(reasons):
        body["reasonCode"] = [r for r in reasons if r]
    observations = [observation(m, r, ObservationContext(key)) for r in rx.order.results]
    if any(observations):
        body["supportingInformation"] = [{"reference": ref} for ref in observations if ref]
    notes = note_annotations(rx.order.notes)
    if notes:
        body["note"] = notes
    instruction = dosage(m, rx)
    if instruction:
        body["dosageInstruction"] = [instruction]
    supply = dispense_request(m, rxe, rxo)
    if supply:
        body["dispenseRequest"] = supply
    allowed = (rxo.get(9, 1) or "").upper() if rxo is not None else ""
    if allowed in ("N", "G", "T"):
        body["substitution"] = {"allowedBoolean": allowed != "N"}
    m.use(orc, rxe, rxo, *_pick(rx, rx.routes), *_pick(rx, rx.timing), *rx.order.notes)
    return m.add("MedicationRequest", key, body)


def dosage(m: MessageMapper, rx: RxOrder) -> dict[str, Any]:
    rxe, rxo = rx.rxe, rx.rxo
    out: dict[str, Any] = {}
    texts = [_text(m, raw) for raw in (rxe.repetitions(7) if rxe else [])] or [_text(m, raw) for raw in (rxo.repetitions(7) if rxo else [])]
    if any(texts):
        out["text"] = "\n".join(t for t in texts if t)
    tq1s = _pick(rx, rx.timing)
    timing, as_needed = repeat_timing(m, tq1s[0] if tq1s else None, rxe or rx.order.orc)
    if timing:
        out["timing"] = timing
    if as_needed:
        out["asNeededBoolean"] = True
    routes = _pick(rx, rx.routes)
    if routes:
        for k, n, table in (("site", 2, "0163"), ("route", 1, "0162"), ("method", 4, "0165")):
            concept = with_table(m.codeable(first(routes[0], n)), table)
            if concept:
                out[k] = concept
    dose_rate: dict[str, Any] = {}
    seg, n_min, n_max, n_unit = (rxe, 3, 4, 5) if rxe is not None else (rxo, 2, 3, 4)
    if seg is not None:
        unit = unit_of(m, first(seg, n_unit))
        low, high = _number(m, seg, n_min), _number(m, seg, n_max)
        if low is not None and high is not None and high != low:
            dose_rate["doseRange"] = {"low": quantity(low, unit), "high": quantity(high, unit)}
        elif low is not None:
            dose_rate["doseQuantity"] = quantity(low, unit)
    if rxe is not None:
        rate = _number(m, rxe, 23)
        if rate is not None:
            dose_rate["rateQuantity"] = quantity(rate, unit_of(m, first(rxe, 24)))
    if dose_rate:
        out["doseAndRate"] = [dose_rate]
    return out


def dispense_request(m: MessageMapper, rxe: Segment | None, rxo: Segment | None) -> dict[str, Any]:
    seg, n_amount, n_unit, n_refills = (rxe, 10, 11, 12) if rxe is not None else (rxo, 11, 12, 13)
    out: dict[str, Any] = {}
    if seg is None:
        return out
    refills = _number(m, seg, n_refills)
    if isinstance(refills, int) and refills >= 0:
        out["numberOfRepeatsAllowed"] = refills
    amount = _number(m, seg, n_amount)
    if amount is not None:
        out["quantity"] = quantity(amount, unit_of(m, first(seg, n_unit)))
    return out


def repeat_timing(m: MessageMapper, tq1: Segment | None, legacy: Segment | None) -> tuple[dict[str, Any], bool]:
    """A FHIR Timing from TQ1 (repeat pattern TQ1-3, bounds TQ1-7/8 or duration TQ1-6, count
    TQ1-14), else from the older TQ field (RXE-1 or ORC-7: interval ^ duration ^ start ^ end);
    and whether the pattern is PRN (as needed)."""
    if tq1 is not None:
        pattern = tq1.get(3, 1, 1)  # RPT.1 is a CWE: its code
        start, end = m.datetime(tq1, 7), m.datetime(tq1, 8)
        count = _number(m, tq1, 14)
    elif legacy is not None:
        n = 1 if legacy.id == "RXE" else 7
        parts = legacy.components(n)
        interval = parts[1] if len(parts) > 1 else None  # RI: repeat pattern & explicit time
        pattern = interval.split(legacy.delimiters.subcomponent)[0] or None if interval else None
        start, end = m.datetime(legacy, n, 4), m.datetime(legacy, n, 5)
        count = None
    else:
        return {}, False
    as_needed = (pattern or "").upper() == "PRN"
    out: dict[str, Any] = {}
    repeat: dict[str, Any] = {}
    if pattern and not as_needed:
        out["code"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0335", "code": pattern}]}
        repeat.update(_frequency(pattern.upper()))
    if start:
        repeat["boundsPeriod"] = {"start": start, **({"end": end} if end else {})}
    elif tq1 is not None and first(tq1, 6):
        duration = _number(m, tq1, 6)
        unit = TIME_UNITS.get((tq1.get(6, 2) or "").split(tq1.delimiters.subcomponent)[0].upper())
        if duration is not None and unit:
            repeat["boundsDuration"] = {"value": duration, "unit": unit, "system": UCUM, "code": unit}
    if isinstance(count, int) and count > 0:
        repeat["count"] = count
    if repeat:
        out["repeat"] = repeat
    return out, as_needed


def _frequency(pattern: str) -> dict[str, Any]:
    every = _EVERY.match(pattern)
    if every:
        return {"frequency": 1, "period": int(every.group(1)), "periodUnit": TIME_UNITS[every.group(2)]}
    if pattern in _TIMES_A_DAY:
        return {"frequency": _TIMES_A_DAY[pattern], "period": 1, "periodUnit": "d"}
    if pattern in _ONCE_A_DAY:
        when = _ONCE_A_DAY[pattern]
        return {"frequency": 1, "period": 1, "periodUnit": "d", **({"when": [when]} if when else {})}
    if pattern == "QOD":
        return {"frequency": 1, "period": 2, "periodUnit": "d"}
    if pattern == "ONCE":
        return {"count": 1}
    return {}


def dispense(m: MessageMapper, rx: RxOrder, request: str | None) -> None:
    rxd = rx.rxd
    assert rxd is not None
    medication = m.codeable(first(rxd, 2))
    if medication is None:
        m.problem(rxd, "2", "RXD-2 (dispense/give code) is empty: no MedicationDispense can be made")
        return
    body: dict[str, Any] = {}
    number_raw = first(rxd, 7)
    if number_raw:
        body["identifier"] = [{"system": f"{m.ctx.system}/id/prescription", "value": split_components(number_raw, m.msg)[0] or number_raw}]
    body["status"] = "completed"
    body["medicationCodeableConcept"] = medication
    if m.patient_reference:
        body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["context"] = m.encounter_reference
    performer = m.practitioner(first(rxd, 10))
    if performer:
        body["performer"] = [{"actor": performer}]
    if request:
        body["authorizingPrescription"] = [{"reference": request}]
    amount = _number(m, rxd, 4)
    if amount is not None:
        body["quantity"] = quantity(amount, unit_of(m, first(rxd, 5)))
    handed = m.datetime(rxd, 3)
    if handed:
        body["whenHandedOver"] = handed
    note = rxd.get(9)
    if note:
        body["note"] = [{"text": note}]
    routes = rx.routes.get("RXD", [])
    route = with_table(m.codeable(first(routes[0], 1)), "0162") if routes else None
    if route:
        body["dosageInstruction"] = [{"route": route}]
    m.use(rxd, rx.order.orc, *routes[:1])
    key = f"{request_key(m, rx.order)}|dispense {rxd.get(1) or 1}"
    m.add("MedicationDispense", key, body)


def _text(m: MessageMapper, raw: str) -> str | None:
    """The text of a CWE instruction (text, original text, else the code)."""
    c = split_components(raw, m.msg)
    return (c[1] if len(c) > 1 else None) or (c[8] if len(c) > 8 else None) or c[0]


def _number(m: MessageMapper, seg: Segment, n: int) -> int | float | None:
    """The NM (or the quantity of a CQ) in field `n`; a value that is not a number is reported."""
    text = seg.get(n, 1)
    if not text:
        return None
    value = number(text)
    if value is None:
        m.problem(seg, str(n), f"`{text}` is not a number (NM: an optional sign, digits and a decimal point)")
    return value
