"""`pharmacy/` — a retail pharmacy chain's fill records, one CSV per year (`fills_2021.csv` …).

The patient is identified by name, date of birth, ZIP and the pharmacy's own patient number.
NDCs are written the way pharmacy systems mix them: the package's 10-digit hyphenated form
(4-4-2, 5-3-2 or 5-4-1), the 11-digit 5-4-2 form with hyphens, or 11 digits plain.
"""

from __future__ import annotations

import random
from pathlib import Path

from medlake.synth.emit import RowFile, num
from medlake.synth.model import PHARMACY, PersonHistory
from medlake.synth.providers import luhn_npi
from medlake.synth.truth import TruthWriter

DAY = "%Y%m%d"
_COLS = ("RxNumber", "FillDate", "PharmacyPatientID", "PatientLastName", "PatientFirstName", "PatientDOB",
         "PatientGender", "PatientZip", "NDC", "DrugName", "Quantity", "DaysSupply", "RefillNumber",
         "PrescriberNPI", "PharmacyNPI", "StoreNumber")
_STORES = tuple((f"{n:04d}", luhn_npi(190000000 + n * 17)) for n in (1021, 1187, 2044, 2310, 3105))


def ndc_as_written(ndc10: str, ndc11: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return ndc10
    if r < 0.8:
        return ndc11
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"


class PharmacyEmitter:
    source = PHARMACY

    def __init__(self, out: Path, seed: int, *, patients: int = 0) -> None:
        self.dir = out / self.source
        self.files: dict[int, RowFile] = {
            year: RowFile(self.dir / f"fills_{year}.csv", _COLS) for year in (2021, 2022, 2023)}
        self.rx = 0

    def emit(self, h: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = h.registration(self.source)
        if reg is None:
            return
        store, store_npi = rng.choice(_STORES)
        for m in h.medications:
            if self.source not in m.sources:
                continue
            self.rx += 1
            rx = f"{6000000 + self.rx}"
            for n, day in enumerate(m.fill_dates):
                f = self.files[day.year]
                f.write([rx, day.strftime(DAY), reg.mrn, reg.family, reg.given,
                         reg.birth_date.strftime(DAY) if reg.birth_date else "", reg.sex, reg.zip,
                         ndc_as_written(m.ndc10, m.ndc, rng), m.display.upper(), num(m.quantity), str(m.days_supply),
                         str(n), m.prescriber.npi, store_npi, store])
                line = f.line
                truth.patient_record(reg, h.person.person_id, "fills", truth.rel(f.path), f"{rx}-{n}", f"line {line}")

    def close(self, truth: TruthWriter) -> None:
        for f in self.files.values():
            f.close()
