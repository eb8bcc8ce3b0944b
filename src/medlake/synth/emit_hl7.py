"""HL7 v2 feeds: the reference lab (`lab/`, ORM^O01 + ORU^R01 2.5.1) and the hospital ADT
interface (`adt/`, ADT A01/A03/A04/A08/A40, SIU^S12, DFT^P03, 2.5).

Each message's true person goes to `truth/records.csv` (kind = `MSH-9` as `ORU^R01`, record
key = `MSH-10`). Defects: see `docs/synthetic-data.md`, section "HL7 v2 and X12 feeds".
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from medlake.synth.hl7_build import ControlIds, Encoded, comp, hl7_ts, message, msh, rep, segment
from medlake.synth.hl7_files import (
    Address,
    FileDefect,
    Hl7FileStream,
    day_time,
    local_ts,
    pid,
    pv1,
    xcn,
)
from medlake.synth.model import (
    ADT,
    Claim,
    ClaimLine,
    Encounter,
    Observation,
    PersonHistory,
    Registration,
)
from medlake.synth.population import base_mrn
from medlake.synth.truth import TruthWriter

__all__ = ["AdtEmitter", "LabEmitter"]

LAB_APP = "LIS"
LAB_FACILITY = "MEDLAB"
LOINC_ALT_PERCENT = 85
"""Share of the lab's local test codes that it also sends with their LOINC (per code)."""


def _num(v: float) -> str:
    text = format(v, ".10g")
    return text[:-2] if text.endswith(".0") else text


def _value(v: float | str) -> tuple[str, str]:
    """(OBX-2 value type, OBX-5 text)."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return "NM", _num(float(v))
    return "ST", str(v)


def _has_loinc(local_code: str) -> bool:
    return zlib.crc32(local_code.encode()) % 100 < LOINC_ALT_PERCENT


def _code(local: str, local_display: str, loinc: str, display: str) -> Encoded:
    """CWE: the lab's local code (`GLU^Glucose^L`), plus the LOINC triplet for most codes."""
    if not local:
        return comp(loinc, display, "LN")
    if loinc and _has_loinc(local):
        return comp(local, local_display or display, "L", loinc, display, "LN")
    return comp(local, local_display or display, "L")


class LabEmitter:
    """The reference lab: one ORM^O01 per order, one ORU^R01 per resulted order, corrections.

    Corrections (OBX-11 `C`) of results whose `corrected_value` is set are queued and written
    to the next ORU file, so they always sort after the original.
    """

    source = "lab"

    def __init__(self, out: Path, seed: int) -> None:
        self.folder = out / self.source
        pick = random.Random(f"{seed}:lab")
        self.ids = ControlIds("LAB", 9)
        self.orm = Hl7FileStream(self.folder, "orm", self.source)
        self.oru = Hl7FileStream(
            self.folder,
            "oru",
            self.source,
            defects=[FileDefect("bom", pick.randint(1, 3), "UTF-8 BOM before the first MSH")],
        )
        # corrections wait for the next ORU file: (message, MSH-10, registration, person_id)
        self._corrections: list[tuple[str, str, Registration, str]] = []
        self._ready: list[tuple[str, str, Registration, str]] = []
        self.oru.on_rotate = self._release_corrections

    def emit(self, history: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = history.registration(self.source)
        if reg is None:
            return
        orders: dict[str, list[Observation]] = {}
        for o in history.observations:
            if self.source in o.sources and o.category == "laboratory":
                orders.setdefault(o.order_id or o.observation_id, []).append(o)
        for order_id, results in orders.items():
            enc = history.encounter(results[0].encounter_id)
            if enc is None:
                continue
            self._order(reg, history.person.person_id, order_id, enc, results, rng, truth)
        self._write_corrections(truth)

    def _order(
        self,
        reg: Registration,
        person_id: str,
        order_id: str,
        enc: Encounter,
        results: list[Observation],
        rng: random.Random,
        truth: TruthWriter,
    ) -> None:
        first = results[0]
        collected = first.effective
        ordered = collected - timedelta(minutes=rng.randint(5, 90))
        filler = f"F{order_id}"
        ctrl = self.ids.next()
        orm = [
            self._msh(ordered, enc, ("ORM", "O01", "ORM_O01"), ctrl),
            pid(reg, assigner="LAB", id_type="PI"),
            segment("PV1", "1", "I" if enc.enc_class == "IMP" else "O", None, None, None, None, xcn(enc.attending)),
            segment("ORC", "NW", order_id, None, None, "SC", None, None, None, Encoded(hl7_ts(ordered)), None, None, xcn(enc.attending)),
            self._obr(order_id, None, first, enc, collected, None, None),
        ]
        self._write(self.orm, orm, ctrl, "ORM^O01", reg, person_id, truth)

        issued = max((o.issued or o.effective) for o in results)
        ctrl = self.ids.next()
        oru = [
            self._msh(issued, enc, ("ORU", "R01", "ORU_R01"), ctrl),
            pid(reg, assigner="LAB", id_type="PI"),
            segment("ORC", "RE", order_id, filler, None, "CM"),
            self._obr(order_id, filler, first, enc, collected, issued, "F"),
        ]
        oru += [self._obx(i, o, "F") for i, o in enumerate(results, 1)]
        self._write(self.oru, oru, ctrl, "ORU^R01", reg, person_id, truth)

        fixed = [o for o in results if o.corrected_value is not None]
        if fixed:
            when = max(o.corrected_at or (issued + timedelta(days=1)) for o in fixed)
            ctrl = self.ids.next()
            corr = [
                self._msh(when, enc, ("ORU", "R01", "ORU_R01"), ctrl),
                pid(reg, assigner="LAB", id_type="PI"),
                segment("ORC", "RE", order_id, filler, None, "CM"),
                self._obr(order_id, filler, first, enc, collected, when, "C"),
            ]
            corr += [self._obx(i, o, "C") for i, o in enumerate(fixed, 1)]
            self._corrections.append((message(corr), ctrl, reg, person_id))

    def _msh(self, when: datetime, enc: Encounter, mtype: tuple[str, str, str], ctrl: str) -> str:
        return msh(
            sending_app=LAB_APP,
            sending_facility=LAB_FACILITY,
            receiving_app="EHR",
            receiving_facility=enc.facility.facility_id,
            timestamp=local_ts(when, enc.tz, offset=True),
            message_type=mtype,
            control_id=ctrl,
            version="2.5.1",
            charset="UNICODE UTF-8",
        )

    @staticmethod
    def _obr(
        order_id: str,
        filler: str | None,
        o: Observation,
        enc: Encounter,
        collected: datetime,
        reported: datetime | None,
        status: str | None,
    ) -> str:
        panel = (
            _code("", "", o.panel_loinc, o.panel_display)
            if o.panel_loinc
            else _code(o.local_code, o.local_display, o.loinc, o.display)
        )
        return segment(
            "OBR", "1", order_id, filler, panel,  # OBR-1..4
            None, None, Encoded(hl7_ts(collected)),  # OBR-7 observation time
            *([None] * 8),  # OBR-8 … OBR-15
            xcn(enc.attending),  # OBR-16 ordering provider
            *([None] * 5),  # OBR-17 … OBR-21
            Encoded(hl7_ts(reported)) if reported else None,  # OBR-22
            None, None,
            status,  # OBR-25 result status
        )  # fmt: skip

    @staticmethod
    def _obx(i: int, o: Observation, status: str) -> str:
        corrected = status == "C" and o.corrected_value is not None
        value = o.corrected_value if corrected and o.corrected_value is not None else o.value
        flag = (o.corrected_flag if corrected else o.abnormal_flag) or None
        vtype, text = _value(value)
        if o.ref_low is not None and o.ref_high is not None:
            ref = f"{_num(o.ref_low)}-{_num(o.ref_high)}"
        elif o.ref_low is not None:
            ref = f">{_num(o.ref_low)}"
        elif o.ref_high is not None:
            ref = f"<{_num(o.ref_high)}"
        else:
            ref = o.ref_text
        when = o.corrected_at if corrected and o.corrected_at else (o.issued or o.effective)
        return segment(
            "OBX", str(i), vtype,
            _code(o.local_code, o.local_display, o.loinc, o.display),  # OBX-3
            None, text,  # OBX-5
            comp(o.unit, o.unit, "UCUM") if o.unit else None,  # OBX-6
            ref or None, flag,  # OBX-7, OBX-8
            None, None, status,  # OBX-11
            None, None, Encoded(hl7_ts(o.effective)),  # OBX-14
            None, None, None, None, Encoded(hl7_ts(when)),  # OBX-19 analysis time
        )  # fmt: skip

    def _write(
        self,
        stream: Hl7FileStream,
        segments: list[str],
        ctrl: str,
        kind: str,
        reg: Registration,
        person_id: str,
        truth: TruthWriter,
    ) -> None:
        rel = truth.rel(stream.path())
        truth.patient_record(reg, person_id, kind, rel, ctrl, f"MSH-10 {ctrl}")
        stream.write(message(segments), truth)

    def _release_corrections(self) -> None:
        """An ORU file was finished: corrections of results in it may go to the next one."""
        self._ready.extend(self._corrections)
        self._corrections = []

    def _write_corrections(self, truth: TruthWriter) -> None:
        """Write released corrections into the current (later) ORU file."""
        while self._ready:
            text, ctrl, reg, person_id = self._ready.pop(0)
            rel = truth.rel(self.oru.path())
            truth.patient_record(reg, person_id, "ORU^R01", rel, ctrl, f"MSH-10 {ctrl}")
            self.oru.write(text, truth)

    def close(self, truth: TruthWriter) -> None:
        if self._corrections:
            self.oru.finish(truth, last=False)  # corrections go to a later file
            self._write_corrections(truth)
        self.orm.close(truth)
        self.oru.close(truth)



# -- ADT -------------------------------------------------------------------------------------
ADT_APP = "HIS"
ADT_ASSIGNER = "HOSP"
DUPLICATE_RATE = 0.01
"""Share of ADT patients registered a second time under a new MRN, later merged by A40."""
SCHEDULED_TYPES = frozenset({"wellness", "followup", "ambulatory"})


class AdtEmitter:
    """The hospital ADT interface: registrations, admits, discharges, updates, merges,
    scheduling (SIU^S12) and charges (DFT^P03), all into `adt/adt_0001.hl7` …"""

    source = "adt"

    def __init__(self, out: Path, seed: int) -> None:
        pick = random.Random(f"{seed}:adt")
        lf = pick.randint(1, 4)  # the file written with LF terminators; the BOM goes on a later one
        self.ids = ControlIds("ADT", 10)
        self.appointments = 0
        self.duplicates = 0
        self.stream = Hl7FileStream(
            out / self.source,
            "adt",
            self.source,
            defects=[
                FileDefect("lf_terminators", lf, "segments end in LF (\\n), not CR"),
                FileDefect("bom", lf + pick.randint(1, 2), "UTF-8 BOM before the first MSH"),
            ],
        )

    def emit(self, history: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = history.registration(self.source)
        if reg is None:
            return
        encounters = [e for e in history.encounters if self.source in e.sources]
        if not encounters:
            return
        p = history.person
        charges: dict[str, list[Claim]] = {}
        for c in history.claims:
            charges.setdefault(c.encounter_id, []).append(c)
        old_address = None
        if p.moved_on and p.previous_address_line and reg.address_line != p.previous_address_line:
            # the system learned of the move (a stale registration keeps the old address: no A08)
            old_address = Address(p.previous_address_line, p.previous_city or reg.city, reg.state, p.previous_zip or reg.zip)
        moved_pending = p.moved_on is not None and old_address is not None
        dup_at = rng.randrange(len(encounters)) if rng.random() < DUPLICATE_RATE else -1
        ctx = _AdtPerson(self, reg, p.person_id, truth)
        for i, enc in enumerate(encounters):
            if moved_pending and p.moved_on is not None and enc.start.date() >= p.moved_on:
                ctx.update_address(enc, day_time(p.moved_on, 9, 0) + timedelta(minutes=rng.randint(0, 600)))
                moved_pending = False
            ctx.address = old_address if moved_pending else None
            if i == dup_at:
                self.duplicates += 1
                ctx.mrn = _duplicate_mrn(reg.mrn, self.duplicates)
            ctx.encounter(enc, rng, charges.get(enc.encounter_id, ()))
            if i == dup_at:
                ctx.merge(enc, enc.end + timedelta(hours=rng.randint(2, 96)))
        if moved_pending and p.moved_on is not None:
            last = encounters[-1]
            ctx.address = None
            ctx.update_address(last, max(day_time(p.moved_on, 10, 0), last.end + timedelta(days=1)))

    def close(self, truth: TruthWriter) -> None:
        self.stream.close(truth)


DUPLICATE_INDEX_BASE = 50_000_000
"""Duplicate MRNs come from the hospital's own number sequence, far past any real person."""


def _duplicate_mrn(mrn: str, n: int) -> str:
    """The `n`-th MRN issued by mistake to an already registered patient (same format)."""
    del mrn  # the hospital's sequence does not depend on the old number
    return base_mrn(ADT, DUPLICATE_INDEX_BASE + n)


class _AdtPerson:
    """Writes the ADT messages of one person (holds the MRN in use and the address to print)."""

    def __init__(self, em: AdtEmitter, reg: Registration, person_id: str, truth: TruthWriter) -> None:
        self.em = em
        self.reg = reg
        self.person_id = person_id
        self.truth = truth
        self.mrn = reg.mrn
        self.address: Address | None = None

    def _send(self, enc: Encounter, when: datetime, trigger: str, structure: str, body: Iterable[str], mtype: str = "ADT") -> tuple[str, str]:
        """Write one message; returns (MSH-10, file)."""
        ctrl = self.em.ids.next()
        head = msh(
            sending_app=ADT_APP,
            sending_facility=enc.facility.facility_id,
            receiving_app="MEDLAKE",
            receiving_facility=enc.facility.facility_id,
            timestamp=hl7_ts(when),  # facility local time, no offset (as this sender does)
            message_type=(mtype, trigger, structure),
            control_id=ctrl,
            version="2.5",
        )
        segs = [head]
        if mtype == "ADT":
            segs.append(segment("EVN", trigger, Encoded(hl7_ts(when))))
        segs.extend(body)
        stream = self.em.stream
        rel = self.truth.rel(stream.path())
        kind = f"{mtype}^{trigger}"
        self.truth.patient_record(self.reg, self.person_id, kind, rel, ctrl, f"MSH-10 {ctrl}")
        stream.write(message(segs), self.truth)
        return ctrl, rel

    def _pid(self) -> str:
        return pid(self.reg, assigner=ADT_ASSIGNER, address=self.address, with_ssn=True, mrn=self.mrn)

    def encounter(self, enc: Encounter, rng: random.Random, claims: Iterable[Claim]) -> None:
        """IMP: [S12 when elective] A01 … A03; EMER: A04 at arrival … A03; others: [S12] A04."""
        elective = enc.enc_class == "IMP" and enc.admit_source != "7"
        if elective or (enc.enc_class not in ("IMP", "EMER") and enc.type_code in SCHEDULED_TYPES):
            self._schedule(enc, enc.start - timedelta(days=rng.randint(1, 45), hours=rng.randint(0, 8)))
        if enc.enc_class == "IMP":
            self._send(enc, enc.start, "A01", "ADT_A01", [self._pid(), pv1(enc, admit=enc.start)])
        else:
            arrived = enc.start - timedelta(minutes=rng.randint(0, 20))
            self._send(enc, arrived, "A04", "ADT_A01", [self._pid(), pv1(enc, admit=enc.start)])
        if enc.enc_class in ("IMP", "EMER"):
            dispo = enc.discharge_disposition or "01"
            body = [self._pid(), pv1(enc, admit=enc.start, discharge=enc.end, disposition=dispo)]
            self._send(enc, enc.end, "A03", "ADT_A03", body)
        lines = [(c, ln) for c in claims for ln in c.lines if ln.code]
        if lines:
            posted = enc.end + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 12))
            self._charges(enc, posted, lines)

    def _schedule(self, enc: Encounter, booked: datetime) -> None:
        self.em.appointments += 1
        appt = f"A{self.em.appointments:09d}"
        minutes = max(5, int((enc.end - enc.start).total_seconds() // 60))
        sch = segment(
            "SCH", appt, appt, None, None, None,
            comp("ROUTINE"),  # SCH-6 event reason
            comp(enc.reason_codes[0], None, "I10") if enc.reason_codes else None,  # SCH-7
            comp(enc.type_code.upper()),  # SCH-8 appointment type
            str(minutes), "min",  # SCH-9, SCH-10
            comp(None, None, str(minutes), Encoded(hl7_ts(enc.start)), Encoded(hl7_ts(enc.end))),  # SCH-11
            *([None] * 13),
            comp("Booked"),  # SCH-25 filler status
        )  # fmt: skip
        location = comp(*enc.location.split("^")) if enc.location else comp(enc.facility.facility_id)
        self._send(
            enc, booked, "S12", "SIU_S12",
            [sch, self._pid(), segment("RGS", "1"),
             segment("AIL", "1", None, location, None, None, Encoded(hl7_ts(enc.start)), None, None, str(minutes), "min"),
             segment("AIP", "1", None, xcn(enc.attending), comp("ATT"), None, Encoded(hl7_ts(enc.start)))],
            mtype="SIU",
        )  # fmt: skip

    def _charges(self, enc: Encounter, posted: datetime, lines: list[tuple[Claim, ClaimLine]]) -> None:
        ft1s = []
        for i, (claim, ln) in enumerate(lines, 1):
            table = "HCPCS" if ln.system == "HCPCS" else "C4"  # table 0088: C4 = CPT-4
            ft1s.append(segment(
                "FT1", str(i), f"{claim.claim_id}-{ln.line_no}", None,
                Encoded(hl7_ts(day_time(ln.service_date, 0, 0))[:8]),  # FT1-4 transaction date
                Encoded(hl7_ts(posted)),  # FT1-5 posting date
                "CG",  # FT1-6 charge
                comp(ln.revenue_code or ln.code, None, "CDM"),  # FT1-7 charge code, no text
                None, None,
                str(ln.units),  # FT1-10
                comp(f"{ln.charge:.2f}", "USD"),  # FT1-11 extended amount
                None, None, None, None, None, None, None,
                rep(*(comp(d, None, "I10") for d in claim.diagnoses[:4])),  # FT1-19
                xcn(claim.rendering),  # FT1-20 performed by
                None, None, None, None,
                comp(ln.code, None, table),  # FT1-25 procedure code, code only
                rep(*ln.modifiers),  # FT1-26
            ))  # fmt: skip
        if ft1s:
            self._send(enc, posted, "P03", "DFT_P03", [self._pid(), pv1(enc), *ft1s], mtype="DFT")

    def update_address(self, enc: Encounter, when: datetime) -> None:
        self._send(enc, when, "A08", "ADT_A01", [self._pid(), pv1(enc)])

    def merge(self, enc: Encounter, when: datetime) -> None:
        retired, self.mrn = self.mrn, self.reg.mrn
        mrg = segment("MRG", comp(retired, None, None, ADT_ASSIGNER, "MR"))
        ctrl, rel = self._send(enc, when, "A40", "ADT_A39", [self._pid(), mrg])
        self.truth.defect(
            "duplicate_registration", self.em.source, rel, f"MSH-10 {ctrl}",
            f"{self.person_id} registered as {self.reg.mrn} and {retired}; A40 retires {retired}",
        )
