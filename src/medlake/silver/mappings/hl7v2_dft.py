"""DFT (detail financial transaction: P03, P11) → one ChargeItem per FT1 charge, and the DG1,
PR1 and IN1 of the message through the ADT mappings (Condition, Procedure, Coverage).

Key: FT1-2, the transaction id (`txn|<id>`); without one, the encounter and FT1-1
(`encounter|<key>|#<set id>`), or without an encounter the patient, FT1-5 and FT1-1.

- status: billable. Only charges are charge items: FT1-6 CG or empty; credits, payments and
  adjustments (CD, PY, AJ …) are left unmapped
- identifier: FT1-2; code: FT1-7 (transaction code), FT1-25's codings (procedure code) after
  it, text FT1-8; quantity: FT1-10
- priceOverride: FT1-11, the extended amount (CP: `amount&currency`; `amount^currency`, as
  some senders write it, is read too)
- occurrence: FT1-4 (a period when it has an end); enteredDate: FT1-5
- performer: FT1-20 (performed by); enterer: FT1-24; context: the encounter; reason: FT1-19;
  service: the Procedures of the PR1s of the FT1's group; product: FT1-29 (NDC)

Not mapped: FT1-3, FT1-9, FT1-12 (unit amount: R4 has no unit price), FT1-13 (department),
FT1-14/15 (insurance), FT1-16 … FT1-18, FT1-21 (ordered by: R4 has no element for it),
FT1-22/23, FT1-26 (modifiers) and later fields.
"""

from __future__ import annotations

import re
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_adt import map_clinical, procedure
from medlake.silver.mappings.hl7v2_common import MessageMapper, following

CHARGE_TYPES = frozenset({"CG", ""})
"""FT1-6 transaction types (table 0017) that are charges."""
PRICE_TYPES = frozenset({"AP", "DC", "IC", "PF", "TF", "TP", "UP"})
"""Table 0205 (price type), what CP.2 holds when it is not a misplaced currency."""
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def map_message(m: MessageMapper) -> None:
    if m.patient_key is None:
        return
    map_clinical(m, procedures=False)
    services = {pr1.index: procedure(m, pr1) for pr1 in m.msg.all("PR1")}
    for ft1 in m.msg.all("FT1"):
        group = following(m.msg, ft1, "PR1", ("FT1", "DG1", "DRG", "GT1", "IN1", "ACC"))
        charge_item(m, ft1, [s for s in (services.get(p.index) for p in group) if s])


def number(m: MessageMapper, seg: Segment, n: int, text: str | None) -> int | float | None:
    """An NM value as a JSON number; anything else is a problem."""
    if not text:
        return None
    if not _NUMBER.match(text.strip()):
        m.problem(seg, str(n), f"`{text}` is not a number")
        return None
    value = float(text)
    return int(value) if "." not in text else value


def money(m: MessageMapper, seg: Segment, n: int) -> dict[str, Any] | None:
    """A CP (price: MO quantity & denomination ^ price type …) as Money."""
    value = number(m, seg, n, seg.get(n, 1, 1))
    if value is None:
        return None
    currency = seg.get(n, 1, 2)
    misplaced = seg.get(n, 2)
    if not currency and misplaced and _CURRENCY.match(misplaced) and misplaced not in PRICE_TYPES:
        currency = misplaced
    return {"value": value, **({"currency": currency} if currency else {})}


def _code(m: MessageMapper, ft1: Segment) -> dict[str, Any] | None:
    code = m.codeable(ft1.field(7))
    procedure_code = m.codeable(ft1.field(25))
    if code is None:
        code = procedure_code
    elif procedure_code and "coding" in procedure_code:
        seen = {(c.get("system"), c["code"]) for c in code.get("coding", [])}
        extra = [c for c in procedure_code["coding"] if (c.get("system"), c["code"]) not in seen]
        code = {**code, "coding": [*code.get("coding", []), *extra]}
    description = ft1.get(8)
    if description and not (code and code.get("text")):
        code = {**(code or {}), "text": description}
    return code


def charge_item(m: MessageMapper, ft1: Segment, services: list[str]) -> None:
    """FT1 → ChargeItem (a charge of the message's patient and encounter)."""
    if (ft1.get(6, 1) or "").upper() not in CHARGE_TYPES:
        return
    code = _code(m, ft1)
    if code is None:
        m.problem(ft1, "7", "FT1-7 (transaction code), FT1-8 and FT1-25 are empty: no ChargeItem can be made")
        return
    m.use(ft1)
    txn = ft1.get(2)
    body: dict[str, Any] = {}
    if txn:
        body["identifier"] = [{"system": f"{m.ctx.system}/id/transaction", "value": txn}]
    body["status"] = "billable"
    body["code"] = code
    body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["context"] = m.encounter_reference
    start, end = m.datetime(ft1, 4, 1), m.datetime(ft1, 4, 2)
    if start and end:
        body["occurrencePeriod"] = {"start": start, "end": end}
    elif start or end:
        body["occurrenceDateTime"] = start or end
    quantity = number(m, ft1, 10, ft1.get(10))
    for key, value in (
        ("performer", [{"actor": p} for p in (m.practitioner(r) for r in ft1.repetitions(20)) if p]),
        ("quantity", {"value": quantity} if quantity is not None else None),
        ("priceOverride", money(m, ft1, 11)),
        ("enterer", next((p for p in (m.practitioner(r) for r in ft1.repetitions(24)) if p), None)),
        ("enteredDate", m.datetime(ft1, 5)),
        ("reason", [r for r in (m.codeable(x) for x in ft1.repetitions(19)) if r]),
        ("service", [{"reference": s} for s in services]),
        ("productCodeableConcept", m.codeable(ft1.field(29))),
    ):
        if value:
            body[key] = value
    m.add("ChargeItem", charge_key(m, ft1), body)


def charge_key(m: MessageMapper, ft1: Segment) -> str:
    """FT1-2; else the encounter and FT1-1; else the patient, FT1-5 and FT1-1."""
    txn = ft1.get(2)
    if txn:
        return f"txn|{txn}"
    if m.encounter_key:
        return f"encounter|{m.encounter_key}|#{ft1.get(1) or ft1.index}"
    return f"patient|{m.patient_key}|{ft1.get(5, 1) or ''}|#{ft1.get(1) or ft1.index}"
