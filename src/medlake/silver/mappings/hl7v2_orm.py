"""ORM^O01, OML^O21, OMG^O19 → a ServiceRequest per order (ORC/OBR), with its OBX as
Observations it cites (`supportingInfo`) and its SPM as Specimens.

ServiceRequest: key = the placer order number (ORC-2, else OBR-2), so the new order, its
status changes and its cancel land on one resource. Status from ORC-1 (order control) and
ORC-5 (order status), intent `order`, identifiers placer/filler (ORC-2/3 or OBR-2/3) and
requisition (ORC-4, placer group number), code OBR-4, priority (TQ1-9, ORC-7.6, OBR-27.6,
OBR-5), occurrence (TQ1-7/8, else the quantity/timing start, else OBR-6 requested, else
OBR-7), authoredOn ORC-9 (of a new order), requester ORC-12 (else OBR-16), reasonCode DG1-3
and OBR-31, notes NTE. A pharmacy order in an ORM (ORC + RXO) is a MedicationRequest (`hl7v2_rde`).

Not mapped: CTD, FT1, CTI, BLG, AL1, TCD, SAC, PRT; prior results (a second PID) are reported.
"""

from __future__ import annotations

from typing import Any

from medlake.silver.mappings.hl7v2_common import MessageMapper
from medlake.silver.mappings.hl7v2_rde import pharmacy_orders, rx_orders
from medlake.silver.mappings.hl7v2_results import (
    SECOND_PATIENT,
    Groups,
    ObservationContext,
    Order,
    authored,
    control_key,
    first,
    note_annotations,
    observation,
    order_groups,
    order_identifiers,
    order_state,
    request_key,
    specimen,
)

REQUEST_STATUS = {"cancelled": "revoked", "discontinued": "revoked"}
"""Order state → ServiceRequest.status where they differ."""

PRIORITY = {"S": "stat", "A": "asap", "R": "routine", "P": "urgent", "C": "urgent", "T": "urgent"}
"""HL7 table 0485 (priority) → FHIR request priority."""


def map_message(m: MessageMapper) -> None:
    groups = order_groups(m.msg)
    map_loose(m, groups)
    pharmacy = "RXO" in m.msg.ids
    for order in groups.orders:
        if order.obr is not None or not pharmacy:
            service_request(m, order)
    if pharmacy:  # ORM^O01 also carries pharmacy orders (ORC + RXO): MedicationRequests
        pharmacy_orders(m, rx_orders(m)[0])
    if groups.second_patient is not None and not pharmacy:  # (rx_orders reported it)
        m.problem(groups.second_patient, "", SECOND_PATIENT)


def map_loose(m: MessageMapper, groups: Groups) -> None:
    """OBX outside any order (patient observations) as Observations."""
    ctx = ObservationContext(control_key(m))
    for r in groups.loose:
        observation(m, r, ctx)


def priority(order: Order) -> str | None:
    """TQ1-9, else the priority of ORC-7 or OBR-27 (TQ.6), else OBR-5."""
    candidates = [t.get(9, 1) for t in order.timing]
    candidates += [order.orc.get(7, 6) if order.orc else None, order.obr.get(27, 6) if order.obr else None]
    candidates.append(order.obr.get(5, 1) if order.obr else None)
    for code in candidates:
        if code and code.upper() in PRIORITY:
            return PRIORITY[code.upper()]
    return None


def occurrence(m: MessageMapper, order: Order) -> dict[str, Any]:
    """`occurrencePeriod` from TQ1-7/8, else `occurrenceDateTime` from the TQ start (ORC-7.4,
    OBR-27.4), OBR-6 (requested) or OBR-7 (observation/collection time)."""
    for tq1 in order.timing:
        start, end = m.datetime(tq1, 7), m.datetime(tq1, 8)
        if start and end:
            return {"occurrencePeriod": {"start": start, "end": end}}
        if start:
            return {"occurrenceDateTime": start}
    for seg, n, comp in ((order.orc, 7, 4), (order.obr, 27, 4), (order.obr, 6, 1), (order.obr, 7, 1)):
        when = m.datetime(seg, n, comp) if seg is not None else None
        if when:
            return {"occurrenceDateTime": when}
    return {}


def service_request(m: MessageMapper, order: Order) -> None:
    orc, obr = order.orc, order.obr
    key = request_key(m, order)
    seg = orc or obr
    if m.patient_reference is None:
        m.problem(seg, "", "an order without a patient (no PID-3): no ServiceRequest can be made")
        return
    body: dict[str, Any] = {}
    ids = order_identifiers(m, order)
    if ids:
        body["identifier"] = ids
    group = m.entity_identifier(first(orc, 4), "PGN") if first(orc, 4) else None
    if group:
        body["requisition"] = group
    state = order_state(m, orc)
    body["status"] = REQUEST_STATUS.get(state, state)
    body["intent"] = "order"
    prio = priority(order)
    if prio:
        body["priority"] = prio
    code = m.codeable(first(obr, 4))
    if code:
        body["code"] = code
    body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["encounter"] = m.encounter_reference
    body.update(occurrence(m, order))
    when = authored(m, orc)
    if when:
        body["authoredOn"] = when
    requester = m.practitioner(first(orc, 12) or first(obr, 16))
    if requester:
        body["requester"] = requester
    reasons = [m.codeable(first(dg1, 3)) for dg1 in order.diagnoses]
    reasons += [m.codeable(raw) for raw in (obr.repetitions(31) if obr is not None else [])]
    if any(reasons):
        body["reasonCode"] = [r for r in reasons if r]
    observations = [observation(m, r, ObservationContext(key)) for r in order.results]
    if any(observations):
        body["supportingInfo"] = [{"reference": ref} for ref in observations if ref]
    specimens = [specimen(m, s, key) for s in order.specimens]
    if specimens:
        body["specimen"] = specimens
    notes = note_annotations(order.notes)
    if notes:
        body["note"] = notes
    m.use(orc, obr, *order.timing, *order.notes, *[d for d, r in zip(order.diagnoses, reasons, strict=False) if r])
    m.add("ServiceRequest", key, body)
