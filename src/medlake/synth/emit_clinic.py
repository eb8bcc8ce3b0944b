"""`clinic/` — a second clinic EHR (hosted by a vendor on the east coast).

CSV files `patients.csv` (null-heavy `HomePhone`/`Email`), `patients_updates.csv` (address
updates re-sent by the vendor in cp1252, not UTF-8: the unexpected-encoding defect),
`visits.csv`, `problems.csv`, `labs.csv` (a few ragged rows), `labs_corrections.csv` (late
corrections of results), and `medications.txt` delimited by `^|^`. Timestamps are the vendor
server's America/New_York local time written `%m/%d/%Y %H:%M`; dates `%m/%d/%Y`.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from medlake.synth.defects import null_heavy
from medlake.synth.emit import RowFile, num
from medlake.synth.model import CLINIC, Observation, PersonHistory
from medlake.synth.population import derive
from medlake.synth.truth import TruthWriter

TS = "%m/%d/%Y %H:%M"
DAY = "%m/%d/%Y"
CLINIC_TZ = "America/New_York"
NULL_PHONE = 0.6
NULL_EMAIL = 0.7
RAGGED_RATE = 0.001
UPDATE_PCT = 2  # % of clinic patients re-sent with a new address in patients_updates.csv
_STREETS = ("Calle Peña", "Rue de l'Église", "Camino del Año", "Müller Straße", "Avenida São João")
_NY = ZoneInfo(CLINIC_TZ)
_PAT = ("PatientID", "LastName", "FirstName", "MiddleName", "Gender", "DOB", "Address", "City", "State", "Zip",
        "HomePhone", "Email", "Race", "Ethnicity", "PreferredLanguage")
_VIS = ("VisitID", "PatientID", "VisitStart", "VisitEnd", "VisitType", "ProviderNPI", "ProviderName", "Location",
        "ReasonICD10")
_PROB = ("ProblemID", "PatientID", "VisitID", "ICD10", "Description", "OnsetDate", "ResolvedDate", "Status")
_LAB = ("ResultID", "PatientID", "VisitID", "OrderID", "TestCode", "TestName", "LOINC", "Result", "Units",
        "ReferenceRange", "AbnormalFlag", "CollectedAt", "ResultStatus")
_MED = ("MedID", "PatientID", "VisitID", "RxNorm", "DrugName", "NDC", "Dose", "Sig", "Quantity", "DaysSupply",
        "Refills", "StartDate", "StopDate", "PrescriberNPI")


def _ny(t: datetime, tz: str) -> str:
    """A facility-local naive time as the vendor server's New York clock shows it."""
    return t.replace(tzinfo=ZoneInfo(tz)).astimezone(_NY).strftime(TS)


def visit_id(encounter_id: str) -> str:
    return "V" + encounter_id[1:]


class ClinicEmitter:
    source = CLINIC

    def __init__(self, out: Path, seed: int, *, patients: int = 0) -> None:
        d = out / self.source
        self.seed = seed
        self.patients = RowFile(d / "patients.csv", _PAT)
        self.updates = RowFile(d / "patients_updates.csv", _PAT, encoding="cp1252")
        self.visits = RowFile(d / "visits.csv", _VIS)
        self.problems = RowFile(d / "problems.csv", _PROB)
        self.labs = RowFile(d / "labs.csv", _LAB)
        self.corrections = RowFile(d / "labs_corrections.csv", _LAB)
        self.meds = RowFile(d / "medications.txt", _MED, delimiter="^|^", quote=None)
        self.empty_phone = self.empty_email = 0
        self.non_ascii_lines = 0
        self.ragged_left = 5

    def emit(self, h: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = h.registration(self.source)
        if reg is None:
            return
        p, pid = h.person, reg.mrn
        phone = "" if rng.random() < NULL_PHONE else reg.phone.replace("-", "")
        email = "" if rng.random() < NULL_EMAIL else reg.email
        self.empty_phone += not phone
        self.empty_email += not email
        row = [pid, reg.family, reg.given, reg.middle, {"M": "Male", "F": "Female"}.get(reg.sex, "Unknown"),
               reg.birth_date.strftime(DAY) if reg.birth_date else "", reg.address_line, reg.city, reg.state,
               reg.zip, phone, email, p.race_display, p.ethnicity_display,
               {"en": "English", "es": "Spanish", "zh": "Chinese", "pl": "Polish"}.get(p.language, "English")]
        line = self.patients.write(row)
        truth.patient_record(reg, p.person_id, "patients", truth.rel(self.patients.path), pid, f"line {line}")
        if self.updates.rows == 0 or derive(self.seed, "update", pid) % 100 < UPDATE_PCT:
            moved = [*row]
            moved[6] = f"{derive(self.seed, 'street', pid) % 900 + 100} {_STREETS[derive(self.seed, 's', pid) % len(_STREETS)]}"
            uline = self.updates.write(moved)
            self.non_ascii_lines += 1
            truth.patient_record(reg, p.person_id, "patients", truth.rel(self.updates.path), pid, f"line {uline}")
        for e in h.encounters:
            if self.source in e.sources:
                self.visits.write([visit_id(e.encounter_id), pid, _ny(e.start, e.tz), _ny(e.end, e.tz), e.type_code,
                                   e.attending.npi, f"{e.attending.given} {e.attending.family}", e.location,
                                   e.reason_codes[0] if e.reason_codes else ""])
                truth.record(self.source, "visits", truth.rel(self.visits.path), visit_id(e.encounter_id), p.person_id)
        sent = {e.encounter_id for e in h.encounters if self.source in e.sources}

        def visit(encounter_id: str | None) -> str:
            """Only visits this clinic has; facts from encounters elsewhere carry no VisitID."""
            return visit_id(encounter_id) if encounter_id in sent else ""

        for c in h.conditions:
            if self.source in c.sources:
                self.problems.write([c.condition_id, pid, visit(c.encounter_id), c.icd10,
                                     c.display, c.onset.strftime(DAY), c.abatement.strftime(DAY) if c.abatement else "",
                                     "resolved" if c.abatement else "active"])
        tz = h.encounters[0].tz if h.encounters else "America/Chicago"
        for o in h.observations:
            if self.source in o.sources and o.category == "laboratory":
                self._lab(o.observation_id, pid, visit(o.encounter_id), o, num(o.value), o.abnormal_flag, "F", tz, self.labs, truth)
                if o.corrected_value is not None:
                    line = self._lab(o.observation_id, pid, visit(o.encounter_id), o, num(o.corrected_value), o.corrected_flag, "C", tz,
                                     self.corrections, truth)
                    truth.defect("late_correction", self.source, truth.rel(self.corrections.path), f"line {line}",
                                 f"ResultID {o.observation_id}: {num(o.value)} -> {num(o.corrected_value)}")
        for m in h.medications:
            if self.source in m.sources:
                self.meds.write([m.order_id, pid, visit(m.encounter_id), m.rxnorm, m.display, m.ndc10, m.dose, m.sig,
                                 num(m.quantity), str(m.days_supply), str(m.refills), m.start.strftime(DAY),
                                 m.stop.strftime(DAY) if m.stop else "", m.prescriber.npi])

    def _lab(self, rid: str, pid: str, visit: str, o: Observation, value: str, flag: str, status: str, tz: str, f: RowFile,
             truth: TruthWriter) -> int:
        rng_txt = (f"{num(o.ref_low)}-{num(o.ref_high)}" if o.ref_low is not None and o.ref_high is not None
                   else f"<{num(o.ref_high)}" if o.ref_high is not None else f">{num(o.ref_low)}" if o.ref_low is not None else "")
        row = [rid, pid, visit, o.order_id, o.local_code, o.local_display, o.loinc, value, o.unit,
               rng_txt, flag, _ny(o.effective, tz), status]
        if f is self.labs and self.ragged_left and derive(self.seed, "ragged", rid) % 10000 < RAGGED_RATE * 10000:
            self.ragged_left -= 1
            row.append("see note")  # one field too many
            line = f.write(row)
            truth.defect("ragged_row", self.source, truth.rel(f.path), f"line {line}",
                         f"{len(row)} fields, header has {len(_LAB)} (extra trailing field)")
            return line
        return f.write(row)

    def close(self, truth: TruthWriter) -> None:
        for f in (self.patients, self.updates, self.visits, self.problems, self.labs, self.corrections, self.meds):
            f.close()
        rel = truth.rel(self.updates.path)
        truth.defect("unexpected_encoding", self.source, rel, "file",
                     f"cp1252 bytes in a UTF-8 feed; {self.non_ascii_lines} lines with non-ASCII characters")
        null_heavy(truth, self.source, self.patients.path, "HomePhone", self.empty_phone, self.patients.rows)
        null_heavy(truth, self.source, self.patients.path, "Email", self.empty_email, self.patients.rows)
