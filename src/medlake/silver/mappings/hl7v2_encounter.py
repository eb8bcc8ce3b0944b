"""PV1 (+ PV2) → Encounter. Minimal first cut; see the ADT mapping issue."""

from __future__ import annotations

from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper


def map_encounter(m: MessageMapper, pv1: Segment) -> None:
    visit = pv1.get(19, 1)
    if not visit:
        return
    m.use(pv1)
    m.encounter_key = visit
    body: dict[str, Any] = {"status": "in-progress", "subject": m.patient_reference}
    start = m.datetime(pv1, 44)
    if start:
        body["period"] = {"start": start}
    m.add("Encounter", visit, body)
