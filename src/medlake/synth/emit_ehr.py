"""`ehr/` — the hospital EHR's pipe-delimited export (naive America/Chicago timestamps).

Files: `patients_1.txt`, `patients_2.txt` (later people; its columns drifted: `PHONE` renamed
`HOME_PHONE`, `PREFERRED_CONTACT` added), `encounters_1.txt`, `diagnoses_1.txt` (~15 % legacy
ICD-9-CM), `procedures_1.txt` (truncated mid-record), `vitals_1.txt` (a few ragged rows) and
`vitals_2.txt` (late corrections re-sending vitals with corrected values, `STATUS` C). One vital
in `vitals_1.txt` is dated a century late (`future_date`: a keyed year, 2023 → 2123).
"""

from __future__ import annotations

import random
from pathlib import Path

from medlake.synth.codes import DX_BY_CODE
from medlake.synth.defects import truncate_last_record
from medlake.synth.emit import RowFile, icd9_dotted, icd10_dotted, num
from medlake.synth.model import EHR, PersonHistory
from medlake.synth.population import derive
from medlake.synth.truth import TruthWriter

TS = "%Y-%m-%d %H:%M:%S"
ICD9_SHARE = 0.15
RAGGED_RATE = 0.0005
FUTURE_YEARS = 100  # the `future_date` defect: one vital's year keyed a century late
_PAT = ("PAT_MRN", "PAT_LAST_NAME", "PAT_FIRST_NAME", "PAT_MIDDLE_NAME", "SEX", "BIRTH_DATE", "SSN", "ADDR_LINE_1",
        "CITY", "STATE", "ZIP", "PHONE", "EMAIL", "RACE", "ETHNIC_GROUP", "LANGUAGE", "MARITAL_STATUS", "DEATH_DATE")
_PAT2 = (*("HOME_PHONE" if c == "PHONE" else c for c in _PAT), "PREFERRED_CONTACT")
_ENC = ("CSN", "PAT_MRN", "ENC_TYPE", "PATIENT_CLASS", "ADMIT_DTTM", "DISCH_DTTM", "FACILITY_ID", "DEPARTMENT",
        "ATTENDING_NPI", "ATTENDING_NAME", "REASON_DX", "DISCH_DISPOSITION", "READMIT_OF_CSN")
_DX = ("DX_ID", "CSN", "PAT_MRN", "DX_CODE_SYSTEM", "DX_CODE", "DX_NAME", "DX_DATE", "DX_TYPE", "ONSET_DATE",
       "RESOLVED_DATE")
_PROC = ("PROC_ID", "CSN", "PAT_MRN", "CODE_SYSTEM", "PROC_CODE", "PROC_NAME", "PROC_DTTM")
_VIT = ("VITAL_ID", "CSN", "PAT_MRN", "VITAL_NAME", "LOINC", "VALUE", "UNIT", "TAKEN_DTTM", "STATUS")


def _pipe(path: Path, header: tuple[str, ...]) -> RowFile:
    return RowFile(path, header, delimiter="|", quote=None, newline="\r\n")


class EhrEmitter:
    source = EHR

    def __init__(self, out: Path, seed: int, *, patients: int = 0) -> None:
        d = out / self.source
        self.seed = seed
        self.split = int(patients * 0.8) if patients >= 5 else patients
        self.patients = _pipe(d / "patients_1.txt", _PAT)
        self.patients2 = _pipe(d / "patients_2.txt", _PAT2)
        self.encounters = _pipe(d / "encounters_1.txt", _ENC)
        self.diagnoses = _pipe(d / "diagnoses_1.txt", _DX)
        self.procedures = _pipe(d / "procedures_1.txt", _PROC)
        self.vitals = _pipe(d / "vitals_1.txt", _VIT)
        self.corrections = _pipe(d / "vitals_2.txt", _VIT)
        self.ragged_left = 5
        self.future_left = 1

    def emit(self, h: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = h.registration(self.source)
        if reg is None:
            return
        p, mrn = h.person, reg.mrn
        row = [mrn, reg.family, reg.given, reg.middle, reg.sex, reg.birth_date.isoformat() if reg.birth_date else "",
               reg.ssn, reg.address_line, reg.city, reg.state, reg.zip, reg.phone, reg.email, p.race_display,
               p.ethnicity_display, p.language, p.marital, p.death_date.isoformat() if p.death_date else ""]
        f = self.patients
        if p.index >= self.split:
            f = self.patients2
            row.append(rng.choice(("PHONE", "EMAIL", "MAIL")))
        line = f.write(row)
        truth.patient_record(reg, p.person_id, "patients", truth.rel(f.path), mrn, f"line {line}")
        dx_n = 0
        sent = {e.encounter_id for e in h.encounters if self.source in e.sources}

        def csn(encounter_id: str | None) -> str:
            """Only encounters this EHR has; facts from visits elsewhere carry no CSN."""
            return encounter_id if encounter_id in sent else ""

        for e in h.encounters:
            if self.source not in e.sources:
                continue
            line = self.encounters.write([
                e.encounter_id, mrn, e.type_code, e.enc_class, e.start.strftime(TS), e.end.strftime(TS),
                e.facility.facility_id, e.location.replace("^", " "), e.attending.npi,
                f"{e.attending.family}, {e.attending.given}", icd10_dotted(e.reason_codes[0]) if e.reason_codes else "",
                e.discharge_disposition, csn(e.readmission_of)])
            truth.record(self.source, "encounters", truth.rel(self.encounters.path), e.encounter_id, p.person_id)
            for code in e.reason_codes:
                dx_n += 1
                self._dx(rng, f"{e.encounter_id}-D{dx_n}", e.encounter_id, mrn, code, e.start.strftime(TS),
                         "ENCOUNTER", "", "")
        for c in h.conditions:
            if self.source in c.sources:
                self._dx(rng, f"{c.condition_id}-PL", csn(c.encounter_id), mrn, c.icd10, c.onset.isoformat() + " 00:00:00",
                         "PROBLEM" if c.chronic else "ENCOUNTER", c.onset.isoformat(),
                         c.abatement.isoformat() if c.abatement else "")
        for pr in h.procedures:
            if self.source in pr.sources:
                self.procedures.write([pr.procedure_id, csn(pr.encounter_id), mrn, pr.system, pr.code, pr.display,
                                       pr.performed.strftime(TS)])
        for o in h.observations:
            if self.source in o.sources and o.category == "vital-signs":
                self._vital(o.observation_id, csn(o.encounter_id), mrn, o.local_code, o.loinc, num(o.value), o.unit,
                            o.effective.strftime(TS), truth, may_shift=o.corrected_value is None)
                if o.corrected_value is not None:
                    cl = self.corrections.write([o.observation_id, csn(o.encounter_id), mrn, o.local_code, o.loinc,
                                                 num(o.corrected_value), o.unit, o.effective.strftime(TS), "C"])
                    truth.defect("late_correction", self.source, truth.rel(self.corrections.path), f"line {cl}",
                                 f"VITAL_ID {o.observation_id}: {num(o.value)} -> {num(o.corrected_value)} {o.unit}")

    def _dx(self, rng: random.Random, dx_id: str, csn: str, mrn: str, code: str, when: str, kind: str,
            onset: str, resolved: str) -> None:
        d = DX_BY_CODE.get(code)
        legacy = d is not None and d.icd9 != "" and derive(self.seed, "icd9", dx_id) % 1000 < ICD9_SHARE * 1000
        system, shown = ("ICD9", icd9_dotted(d.icd9)) if legacy and d else ("ICD10", icd10_dotted(code))
        self.diagnoses.write([dx_id, csn, mrn, system, shown, d.display if d else "", when, kind, onset, resolved])

    def _vital(self, vid: str, csn: str, mrn: str, name: str, loinc: str, value: str, unit: str, when: str,
               truth: TruthWriter, *, may_shift: bool = False) -> None:
        row = [vid, csn, mrn, name, loinc, value, unit, when, "F"]
        if self.ragged_left and derive(self.seed, "ragged", vid) % 10000 < RAGGED_RATE * 10000:
            self.ragged_left -= 1
            del row[6]  # the UNIT field is missing: one field short
            line = self.vitals.write(row)
            truth.defect("ragged_row", self.source, truth.rel(self.vitals.path), f"line {line}",
                         f"{len(row)} fields, header has {len(_VIT)} (UNIT missing)")
            return
        if self.future_left and may_shift:  # not a corrected vital: its correction would re-send the true date
            self.future_left -= 1
            row[7] = f"{int(when[:4]) + FUTURE_YEARS:04d}{when[4:]}"
            line = self.vitals.write(row)
            truth.defect("future_date", self.source, truth.rel(self.vitals.path), f"line {line}",
                         f"VITAL_ID {vid}: TAKEN_DTTM year {when[:4]} keyed as {row[7][:4]}")
            return
        self.vitals.write(row)

    def close(self, truth: TruthWriter) -> None:
        for f in (self.patients, self.patients2, self.encounters, self.diagnoses, self.procedures, self.vitals,
                  self.corrections):
            f.close()
        truth.defect("column_drift", self.source, truth.rel(self.patients2.path), "line 1",
                     "PHONE renamed HOME_PHONE; PREFERRED_CONTACT added")
        truncate_last_record(self.procedures.path, truth, self.source)

    def files(self) -> list[Path]:
        return [f.path for f in (self.patients, self.patients2, self.encounters, self.diagnoses, self.procedures,
                                 self.vitals, self.corrections)]
