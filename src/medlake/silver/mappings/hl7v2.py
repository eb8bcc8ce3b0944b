"""HL7 v2 → FHIR R4: the dispatcher that hands each message to its family's mapping.

Every message with a PID gets its Patient (`hl7v2_patient`), every PV1 its Encounter
(`hl7v2_encounter`); then the module of the message type (MSH-9.1) maps the rest. Segments
no mapping used are counted per message type and segment id in the unmapped report, and the
message itself stays in bronze: nothing is silently dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from medlake.formats.hl7v2 import Message
from medlake.silver.mappings import family_function
from medlake.silver.mappings.hl7v2_common import (
    Hl7Context,
    Hl7Problem,
    MappedHl7,
    MessageMapper,
    patient_key,
)

FAMILIES = {
    "ADT": "hl7v2_adt",
    "ORU": "hl7v2_oru",
    "OUL": "hl7v2_oru",
    "ORM": "hl7v2_orm",
    "OML": "hl7v2_orm",
    "OMG": "hl7v2_orm",
    "SIU": "hl7v2_siu",
    "DFT": "hl7v2_dft",
    "VXU": "hl7v2_vxu",
    "RDE": "hl7v2_rde",
    "OMP": "hl7v2_rde",
    "RDS": "hl7v2_rde",
    "MDM": "hl7v2_mdm",
}
"""MSH-9.1 → the mapping module (in `medlake.silver.mappings`) with `map_message(m)`."""

ALWAYS_USED = frozenset({"MSH", "SFT", "EVN"})
"""Header segments that carry no clinical content of their own."""

Family = Callable[[MessageMapper], None]


@dataclass
class Hl7Mapping:
    resources: list[MappedHl7] = field(default_factory=list)
    problems: list[Hl7Problem] = field(default_factory=list)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(message type, segment id) → how many such segments no mapping used."""
    messages: int = 0
    unmapped_messages: Counter[str] = field(default_factory=Counter)
    """Message types with no mapping at all → count."""


def family(message_type: str | None) -> Family | None:
    module = FAMILIES.get((message_type or "").upper())
    if module is None:
        return None
    fn: Family = family_function(module, "map_message")
    return fn


def map_message(msg: Message, ctx: Hl7Context, record_index: int = 0) -> MessageMapper:
    """Map one message; the returned mapper holds its resources, problems and used segments."""
    from medlake.silver.mappings.hl7v2_encounter import map_encounter
    from medlake.silver.mappings.hl7v2_patient import map_patient

    m = MessageMapper(msg, ctx, record_index)
    pid = msg.segment("PID")
    if pid is not None:
        m.patient_key = patient_key(pid, msg)
        if m.patient_key is None:
            m.problem(pid, "3", "PID-3 (patient identifier list) is empty: no Patient can be made")
        else:
            map_patient(m, pid)
    pv1 = msg.segment("PV1")
    if pv1 is not None and m.patient_key is not None:
        map_encounter(m, pv1)
    fn = family(msg.message_type)
    if fn is not None:
        fn(m)
    return m


def map_messages(messages: list[tuple[int, Message]], ctx: Hl7Context) -> Hl7Mapping:
    """Map many messages (record index, message) into one result with the unmapped counts."""
    out = Hl7Mapping()
    for record_index, msg in messages:
        try:
            m = map_message(msg, ctx, record_index)
        except Exception as err:  # a mapping bug must not stop the batch: the message is quarantined
            mtype = "^".join(p for p in (msg.message_type, msg.trigger) if p) or "?"
            text = f"the {mtype} mapping failed: {type(err).__name__}: {err}"
            out.problems.append(Hl7Problem(record_index, f"message {record_index + 1}", text))
            out.messages += 1
            continue
        out.messages += 1
        out.resources.extend(m.resources)
        out.problems.extend(m.problems)
        mtype = msg.message_type or "?"
        if FAMILIES.get(mtype.upper()) is None:
            out.unmapped_messages[mtype] += 1
        for i, sid in enumerate(msg.ids):
            if i not in m.used and sid not in ALWAYS_USED:
                out.unmapped[(mtype, sid)] += 1
    return out
