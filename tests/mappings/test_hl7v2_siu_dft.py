"""HL7 v2 SIU → Appointment and DFT → ChargeItem: golden messages, statuses, timing, bad values.

Golden inputs (`golden/hl7v2/siu_s12.hl7`, `siu_s15.hl7`, `dft_p03.hl7`) were written by hand
for these tests from HL7 v2.5 chapter 10 (scheduling: SCH, TQ1, RGS, AIS, AIL, AIP) and
chapter 6 (financial management: FT1); the DFT's first charge writes FT1-11 as `amount^USD`
the way the synthetic ADT feed does (`src/medlake/synth/emit_hl7.py`), the second as the CP the
standard defines (`amount&USD`), and the third is a payment (not a charge). Expected resources
were worked out by hand; see `test_hl7v2_adt.py` for the file format and the FHIR validation.
"""

from __future__ import annotations

import pytest
from test_hl7v2_adt import (
    GOLDEN,
    by_type,
    check_golden,
    run,
    sample_messages,
    seg,
    unmapped,
    validate,
)

from medlake.silver.mappings.hl7v2 import map_message
from medlake.silver.mappings.hl7v2_common import Hl7Context


@pytest.mark.parametrize("name", ["siu_s12", "siu_s15", "dft_p03"])
def test_golden(name: str) -> None:
    check_golden(name)


def test_s12_then_s15_are_versions_of_one_appointment() -> None:
    booked = by_type(run((GOLDEN / "siu_s12.hl7").read_text("utf-8")), "Appointment")
    cancelled = by_type(run((GOLDEN / "siu_s15.hl7").read_text("utf-8")), "Appointment")
    assert booked[0]["id"] == cancelled[0]["id"]
    assert (booked[0]["status"], cancelled[0]["status"]) == ("booked", "cancelled")


HEAD = "MSH|^~\\&|SCHED|LAKESIDE|MEDLAKE|LAKESIDE|20240401090000||SIU^{event}|C-1|P|2.5"
PID = "PID|1||1001^^^HOSP^MR||Rivera^Ana||19800214|F"


def siu(event: str, sch: dict[int, str], *segments: str) -> str:
    return "\n".join([HEAD.format(event=event), seg("SCH", {1: "PL-1", 2: "FL-1", **sch}), PID, *segments])


@pytest.mark.parametrize(
    ("event", "filler", "status"),
    [
        ("S12", "", "booked"),
        ("S12", "Pending", "pending"),
        ("S14", "Waitlist", "waitlist"),
        ("S14", "Complete", "fulfilled"),
        ("S13", "Noshow", "noshow"),
        # the event says it, whatever SCH-25 still says
        ("S15", "Booked", "cancelled"),
        ("S16", "", "cancelled"),
        ("S17", "Booked", "entered-in-error"),
        ("S26", "Booked", "noshow"),
    ],
)
def test_appointment_status(event: str, filler: str, status: str) -> None:
    m = run(siu(event, {25: filler} if filler else {}))
    (appointment,) = by_type(m, "Appointment")
    assert appointment["status"] == status
    patient = {"pending": "needs-action", "waitlist": "needs-action", "cancelled": "declined", "entered-in-error": "declined"}
    assert appointment["participant"][0]["status"] == patient.get(status, "accepted")


def test_timing_from_sch_11_when_there_is_no_tq1() -> None:
    m = run(siu("S12", {11: "^^30^202404150930^202404151000"}))
    (appointment,) = by_type(m, "Appointment")
    assert (appointment["start"], appointment["end"], appointment["minutesDuration"]) == (
        "2024-04-15T14:30:00Z", "2024-04-15T15:00:00Z", 30,
    )  # fmt: skip


def test_end_from_the_resource_start_and_duration() -> None:
    """No TQ1, no SCH-11: the AIS start plus its duration (in hours here)."""
    m = run(siu("S12", {}, "RGS|1", seg("AIS", {1: "1", 3: "CARDFU", 4: "202404150930", 7: "1.5", 8: "h"})))
    (appointment,) = by_type(m, "Appointment")
    assert (appointment["start"], appointment["end"], appointment["minutesDuration"]) == (
        "2024-04-15T14:30:00Z", "2024-04-15T16:00:00Z", 90,
    )  # fmt: skip


def test_a_start_without_a_time_of_day_is_requested_not_booked() -> None:
    """`start`/`end` are instants: a day alone goes to requestedPeriod."""
    m = run(siu("S12", {11: "^^^20240415^20240416"}))
    (appointment,) = by_type(m, "Appointment")
    assert "start" not in appointment
    assert appointment["requestedPeriod"] == [{"start": "2024-04-15", "end": "2024-04-16"}]


def test_blocked_slot_events_are_not_appointments() -> None:
    m = run(siu("S23", {}))
    assert by_type(m, "Appointment") == [] and "SCH" in unmapped(m)


def test_siu_diagnosis_is_the_appointment_reason() -> None:
    m = run(siu("S12", {}, "DG1|1||R07.9^Chest pain^I10"))
    (appointment,) = by_type(m, "Appointment")
    (condition,) = [r for r in m.resources if r.resource_type == "Condition"]
    assert appointment["reasonReference"] == [{"reference": f"Condition/{condition.id}"}]


DFT = "\n".join([
    "MSH|^~\\&|HIS|LAKESIDE|MEDLAKE|LAKESIDE|20240309120000||DFT^P03^DFT_P03|C-1|P|2.5",
    PID,
    seg("PV1", {1: "1", 2: "I", 19: "V5001"}),
])  # fmt: skip


def test_dft_refers_to_the_visit_without_writing_it() -> None:
    m = run(DFT + "\n" + seg("FT1", {1: "1", 2: "T1", 6: "CG", 7: "0360^^CDM", 10: "1", 11: "10.5&EUR"}))
    assert by_type(m, "Encounter") == []
    (charge,) = by_type(m, "ChargeItem")
    assert charge["context"] == {"reference": m.ref("Encounter", "V5001")}
    assert charge["priceOverride"] == {"value": 10.5, "currency": "EUR"}
    assert unmapped(m) == []


def test_dft_without_transaction_ids_or_visit() -> None:
    """Keys: the encounter and FT1-1; without a visit, the patient, FT1-5 and FT1-1."""
    no_visit = DFT.replace(seg("PV1", {1: "1", 2: "I", 19: "V5001"}), "PV1|1|I")
    m = run(no_visit + "\n" + seg("FT1", {1: "4", 5: "202403091200", 6: "CG", 7: "0360^^CDM"}))
    (charge,) = [r for r in m.resources if r.resource_type == "ChargeItem"]
    assert charge.source_id == "patient|1001^HOSP|202403091200|#4"
    assert "context" not in charge.resource


# -- bad values -------------------------------------------------------------------------------------
BAD = [
    ("SCH-25 not table 0278", siu("S12", {25: "Maybe"}),
     [("message 1 SCH.25", "`Maybe` is not a filler status (table 0278: Pending, Waitlist, Booked, Started, Complete, Cancelled, Dc, Deleted, Blocked, Overbook, Noshow)")]),
    ("no appointment ids", siu("S12", {1: "", 2: "", 7: "ROUTINE"}),
     [("message 1 SCH.2", "SCH-1 (placer appointment id) and SCH-2 (filler appointment id) are empty: no Appointment can be made")]),
    ("SCH-9 not a number", siu("S12", {9: "half an hour"}),
     [("message 1 SCH.9", "`half an hour` is not a duration (a number)")]),
    ("AIS-8 unknown unit", siu("S12", {}, seg("AIS", {1: "1", 4: "202404150930", 7: "2", 8: "wk"})),
     [("message 1 AIS.8", "`wk` is not a duration unit (s, min, h, d)")]),
    ("TQ1-6 unknown unit", siu("S12", {}, seg("TQ1", {1: "1", 6: "2^fortnight&&ANS+", 7: "202404150930"})),
     [("message 1 TQ1.6.2", "`fortnight` is not a duration unit (s, min, h, d)")]),
    ("TQ1-7 not a date/time", siu("S12", {}, seg("TQ1", {1: "1", 7: "tomorrow"})),
     [("message 1 TQ1.7", "`tomorrow` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])")]),
    ("FT1-10 not a number", DFT + "\n" + seg("FT1", {1: "1", 6: "CG", 7: "0360^^CDM", 10: "two"}),
     [("message 1 FT1.10", "`two` is not a number")]),
    ("FT1-11 with a decimal comma", DFT + "\n" + seg("FT1", {1: "1", 6: "CG", 7: "0360^^CDM", 11: "12,50&EUR"}),
     [("message 1 FT1.11", "`12,50` is not a number")]),
    ("FT1-4 not a date", DFT + "\n" + seg("FT1", {1: "1", 4: "2024-03-06", 6: "CG", 7: "0360^^CDM"}),
     [("message 1 FT1.4", "`2024-03-06` is not an HL7 date/time (YYYYMMDD[HHMM[SS[.S]]][+/-ZZZZ])")]),
    ("FT1 without a code", DFT + "\n" + seg("FT1", {1: "1", 6: "CG", 10: "1"}),
     [("message 1 FT1.7", "FT1-7 (transaction code), FT1-8 and FT1-25 are empty: no ChargeItem can be made")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "problems"), [(t, p) for _, t, p in BAD], ids=[d for d, _, _ in BAD])
def test_bad_values(text: str, problems: list[tuple[str, str]]) -> None:
    m = run(text)
    assert [(p.position, p.message) for p in m.problems] == problems
    validate(m)


# -- real samples -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "at_least"), [("SIU", 20), ("DFT", 4)])
def test_shared_samples_map_and_validate(kind: str, at_least: int) -> None:
    ctx = Hl7Context("acme", "samples", "urn:acme:samples", "America/Chicago")
    seen = 0
    for _, i, msg in sample_messages(kind):
        m = map_message(msg, ctx, i)
        validate(m)
        wanted = {"SIU": "Appointment", "DFT": "ChargeItem"}[kind]
        assert by_type(m, wanted), msg.control_id
        seen += 1
    assert seen >= at_least
