"""SIU (scheduling information unsolicited, S12 … S26) → Appointment.

Key: SCH-2, the filler appointment id (`filler|id^namespace`), else SCH-1, the placer's
(`placer|id^namespace`): every notification about one appointment is a version of it.

- identifier: SCH-1 (type PLAC) and SCH-2 (type FILL)
- status: S15/S16 cancelled, S17 entered-in-error, S26 noshow; other events take SCH-25, the
  filler status (table 0278: Booked → booked, Pending → pending, Complete → fulfilled …), and
  are booked without it; cancelationReason: SCH-6 (event reason) of a cancelled appointment
- start/end: TQ1-7/8, else SCH-11.4/5, else the earliest resource start (AIS-4, AIL-6, AIP-6);
  a missing end is the start plus the duration. They are instants: when either has no time of
  day (or there is no end) they go to `requestedPeriod` instead
- minutesDuration: TQ1-6, else SCH-9/10, else the AIS/AIL/AIP duration (minutes when no
  unit), else end − start
- serviceType: AIS-3; appointmentType: SCH-8, else SCH-7 when it is a table 0276 code;
  reasonCode: SCH-7; reasonReference: the Conditions of the message's DG1s
- participant: the patient; AIP-3 Practitioners (type AIP-4); AIL-3 Locations — each with the
  status of its own filler status (AIP-12, AIL-12), else of the appointment's
- comment: the NTEs right after SCH

Not mapped: SCH-3 … SCH-5, SCH-12 … SCH-24 (contacts, entered by, parent appointment),
SCH-26/27; AIG (equipment); the NTEs of the resources; OBX. S23/S24 (a blocked or opened time
slot) are not appointments and are not mapped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_adt import map_clinical
from medlake.silver.mappings.hl7v2_common import MessageMapper, following, with_table

EVENT_STATUS = {"S15": "cancelled", "S16": "cancelled", "S17": "entered-in-error", "S26": "noshow"}
"""Events that say what became of the appointment, whatever SCH-25 says."""

FILLER_STATUS = {
    "PENDING": "pending", "WAITLIST": "waitlist", "BOOKED": "booked", "OVERBOOK": "booked",
    "STARTED": "arrived", "COMPLETE": "fulfilled", "CANCELLED": "cancelled", "DC": "cancelled",
    "DELETED": "entered-in-error", "NOSHOW": "noshow",
    "SCHEDULED": "booked",  # not in table 0278, but senders use it for Booked
}  # fmt: skip
"""Filler status code (table 0278) → Appointment.status."""

PARTICIPATION = {
    "booked": "accepted", "arrived": "accepted", "fulfilled": "accepted", "noshow": "accepted",
    "pending": "needs-action", "waitlist": "needs-action", "proposed": "needs-action",
    "cancelled": "declined", "entered-in-error": "declined",
}  # fmt: skip
"""Appointment status → a participant's status."""

APPOINTMENT_REASON = frozenset({"ROUTINE", "WALKIN", "CHECKUP", "FOLLOWUP", "EMERGENCY"})
"""Table 0276 (appointment reason), the codes of FHIR's appointmentType."""
APPOINTMENT_TYPE = frozenset({"NORMAL", "TENTATIVE", "COMPLETE"})
"""Table 0277 (appointment type)."""

MINUTES = {"s": 1 / 60, "sec": 1 / 60, "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
           "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "d": 1440, "day": 1440, "days": 1440}  # fmt: skip
"""Duration units (as SCH-10, AIS-8 … send them) → minutes."""

SLOT_EVENTS = frozenset({"S23", "S24", "S25"})


def map_message(m: MessageMapper) -> None:
    event = (m.msg.trigger or "").upper()
    sch = m.msg.segment("SCH")
    if sch is None or event in SLOT_EVENTS:
        return
    map_clinical(m)
    key = _key(sch)
    if key is None:
        m.problem(sch, "2", "SCH-1 (placer appointment id) and SCH-2 (filler appointment id) are empty: no Appointment can be made")
        return
    status = _status(m, sch, event)
    participants = _participants(m, status)
    if not participants:
        m.problem(sch, "", "the appointment has no patient (PID), AIP or AIL: no Appointment can be made")
        return
    body: dict[str, Any] = {}
    ids = [i for i in (m.entity_identifier(sch.field(1), "PLAC"), m.entity_identifier(sch.field(2), "FILL")) if i]
    if ids:
        body["identifier"] = ids
    body["status"] = status
    if status == "cancelled":
        reason = m.codeable(sch.field(6))
        if reason:
            body["cancelationReason"] = reason
    _codes(m, sch, body)
    _timing(m, sch, body)
    comment = _comment(m, sch)
    if comment:
        body["comment"] = comment
    body["participant"] = participants
    m.use(sch, *m.msg.all("RGS"), *m.msg.all("AIS"))
    m.add("Appointment", key, body)


def _codes(m: MessageMapper, sch: Segment, body: dict[str, Any]) -> None:
    """serviceType (AIS-3), appointmentType (SCH-8, else a table 0276 SCH-7), reasonCode
    (SCH-7) and reasonReference (the message's Conditions)."""
    services = [s for ais in m.msg.all("AIS") for s in (m.codeable(r) for r in ais.repetitions(3)) if s]
    reason = m.codeable(sch.field(7))
    table_0276 = (sch.get(7, 1) or "").upper() in APPOINTMENT_REASON and (sch.get(7, 3) or "HL70276").upper() == "HL70276"
    if table_0276:
        reason = with_table(reason, "0276")
    kind = m.codeable(sch.field(8))
    if (sch.get(8, 1) or "").upper() in APPOINTMENT_TYPE and not sch.get(8, 3):
        kind = with_table(kind, "0277")
    kind = kind or (reason if table_0276 else None)
    conditions = [{"reference": f"Condition/{r.id}"} for r in m.resources if r.resource_type == "Condition"]
    for name, value in (("serviceType", services), ("appointmentType", kind), ("reasonCode", [reason] if reason else None), ("reasonReference", conditions)):
        if value:
            body[name] = value


def _key(sch: Segment) -> str | None:
    for n, kind in ((2, "filler"), (1, "placer")):
        value = sch.get(n, 1)
        if value:
            return f"{kind}|{value}^{sch.get(n, 2) or ''}"
    return None


def _status(m: MessageMapper, sch: Segment, event: str) -> str:
    if event in EVENT_STATUS:
        return EVENT_STATUS[event]
    filler = sch.get(25, 1)
    if filler:
        status = FILLER_STATUS.get(filler.upper())
        if status:
            return status
        m.problem(sch, "25", f"`{filler}` is not a filler status (table 0278: Pending, Waitlist, Booked, Started, Complete, Cancelled, Dc, Deleted, Blocked, Overbook, Noshow)")
    return "booked"


def _minutes(m: MessageMapper, seg: Segment, n: int, units_at: str) -> float | None:
    """A duration (NM in field `n`) in minutes, with the units at `units_at` (a field, or
    field.component; minutes when empty)."""
    field, _, comp = units_at.partition(".")
    units = seg.get(int(field), int(comp or 1), 1 if comp else None)
    value = seg.get(n, 1)
    if not value:
        return None
    factor = MINUTES.get((units or "min").lower())
    try:
        number = float(value)
    except ValueError:
        m.problem(seg, str(n), f"`{value}` is not a duration (a number)")
        return None
    if factor is None:
        m.problem(seg, units_at, f"`{units}` is not a duration unit (s, min, h, d)")
        return None
    return number * factor


def _duration(m: MessageMapper, sch: Segment) -> float | None:
    tq1 = m.msg.segment("TQ1")
    if tq1 is not None and tq1.get(6, 1):
        return _minutes(m, tq1, 6, "6.2")
    if sch.get(9):
        return _minutes(m, sch, 9, "10")
    for sid, n in (("AIS", 7), ("AIL", 9), ("AIP", 9)):
        for seg in m.msg.all(sid):
            if seg.get(n):
                return _minutes(m, seg, n, str(n + 1))
    return None


def _start_end(m: MessageMapper, sch: Segment) -> tuple[str | None, str | None]:
    tq1 = m.msg.segment("TQ1")
    if tq1 is not None:
        m.use(tq1)
        start = m.datetime(tq1, 7)
        if start:
            return start, m.datetime(tq1, 8)
    start = m.datetime(sch, 11, 4)
    if start:
        return start, m.datetime(sch, 11, 5)
    starts = [t for sid, n in (("AIS", 4), ("AIL", 6), ("AIP", 6)) for seg in m.msg.all(sid) for t in [m.datetime(seg, n)] if t]
    return (min(starts) if starts else None), None


def _instant(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else None


def _timing(m: MessageMapper, sch: Segment, body: dict[str, Any]) -> None:
    start, end = _start_end(m, sch)
    minutes = _duration(m, sch)
    begins = _instant(start) if start else None
    if begins and not end and minutes:
        end = (begins + timedelta(minutes=minutes)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ends = _instant(end) if end else None
    if begins and ends:
        body["start"], body["end"] = start, end
        if minutes is None:
            minutes = (ends - begins).total_seconds() / 60
    elif start or end:
        body["requestedPeriod"] = [{k: v for k, v in (("start", start), ("end", end)) if v}]
    if minutes is not None and int(minutes) > 0:
        body["minutesDuration"] = int(minutes)


def _comment(m: MessageMapper, sch: Segment) -> str | None:
    texts = []
    for nte in following(m.msg, sch, "NTE", ("PID", "PD1", "PV1", "RGS", "AIS", "AIG", "AIL", "AIP", "DG1", "OBX")):
        text = "\n".join(t for t in (nte.get(3, rep=i, text=True) for i in range(1, len(nte.repetitions(3)) + 1)) if t)
        m.use(nte)
        if text:
            texts.append(text)
    return "\n".join(texts) or None


def _participants(m: MessageMapper, status: str) -> list[dict[str, Any]]:
    default = PARTICIPATION.get(status, "needs-action")
    out: list[dict[str, Any]] = []
    if m.patient_reference:
        out.append({"actor": m.patient_reference, "required": "required", "status": default})
    seen: set[str] = set()
    for sid, n, to_actor in (("AIP", 3, m.practitioner), ("AIL", 3, m.location)):
        for seg in m.msg.all(sid):
            filler = FILLER_STATUS.get((seg.get(12, 1) or "").upper())
            kind = m.codeable(seg.field(4)) if sid == "AIP" else None
            start = m.datetime(seg, 6)
            for raw in seg.repetitions(n):
                actor = to_actor(raw)
                if actor is None or actor["reference"] in seen:
                    continue
                seen.add(actor["reference"])
                m.use(seg)
                entry: dict[str, Any] = {"type": [kind]} if kind else {}
                entry["actor"] = actor
                entry["status"] = PARTICIPATION[filler] if filler else default
                if start:
                    entry["period"] = {"start": start}
                out.append(entry)
    return out
