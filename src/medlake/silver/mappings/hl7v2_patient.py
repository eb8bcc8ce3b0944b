"""PID (+ PD1, NK1) → Patient (+ RelatedPerson). Minimal first cut; see the ADT mapping issue."""

from __future__ import annotations

from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import GENDER, MessageMapper


def map_patient(m: MessageMapper, pid: Segment) -> None:
    assert m.patient_key is not None
    m.use(pid)
    body: dict[str, Any] = {}
    ids = [i for i in (m.identifier(r) for r in pid.repetitions(3)) if i]
    if ids:
        body["identifier"] = ids
    names = [n for n in (m.human_name(r) for r in pid.repetitions(5)) if n]
    if names:
        body["name"] = names
    sex = pid.get(8)
    if sex:
        body["gender"] = GENDER.get(sex.upper(), "unknown")
    birth = m.date(pid, 7)
    if birth:
        body["birthDate"] = birth
    m.add("Patient", m.patient_key, body)
