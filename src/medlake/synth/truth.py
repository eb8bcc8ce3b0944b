"""Ground truth written beside the generated feeds (`OUT/truth/`).

- `persons.csv`  — the true identity of every person (one row per `person_id`).
- `records.csv`  — `source,kind,file,record_key,person_id`: the true person behind every
  emitted record that identifies a patient (a patient row, a PID segment, a subscriber loop …).
- `defects.csv`  — `defect,source,file,location,detail,detectable`: every injected defect, where
  it is, and whether a data-quality check should find it (`true`: file- and record-level damage
  such as a truncated file or an unbalanced remittance; `false`: identity noise like nicknames
  and typos, which the patient index absorbs, and quirks the readers tolerate, like a BOM).
- `identities.csv` — `source,patient_key,person_id`: the true person behind each source
  system's own patient number (`Registration.mrn`), once per (source, number, person). A
  number shared by two persons (an injected defect) has two rows.

`file` is always relative to OUT with `/` separators (`ehr/patients_1.txt`). `location` says
where inside the file in the file's own terms (`line 12`, `MSH-10 LAB0000042`, `CLM01 C123`,
`resource Patient/abc`, `offset 1024`). Rows are streamed: nothing is kept in memory except
counters.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import IO

from medlake.synth.model import Person, Registration

PERSON_COLUMNS: tuple[str, ...] = (
    "person_id", "given", "middle", "family", "maiden_family", "sex", "birth_date", "death_date",
    "ssn", "address_line", "city", "state", "zip", "previous_address_line", "previous_city",
    "previous_zip", "moved_on", "phone", "email", "race", "ethnicity", "language", "marital",
)
RECORD_COLUMNS: tuple[str, ...] = ("source", "kind", "file", "record_key", "person_id")
DEFECT_COLUMNS: tuple[str, ...] = ("defect", "source", "file", "location", "detail", "detectable")
DETECTABLE: frozenset[str] = frozenset({
    "truncated_file", "column_drift", "missing_dob", "duplicate_mrn", "duplicate_registration",
    "x12_835_unbalanced", "x12_se_count", "future_date", "ragged_row", "malformed_json", "unexpected_encoding",
})  # fmt: skip
"""Defects a data-quality check should report (docs/quality.md maps each to the check that does)."""
IDENTITY_COLUMNS: tuple[str, ...] = ("source", "patient_key", "person_id")


class TruthWriter:
    """Streams the ground-truth CSVs into `out/truth/`."""

    def __init__(self, out: Path) -> None:
        self.root = out
        folder = out / "truth"
        folder.mkdir(parents=True, exist_ok=True)
        self._files: list[IO[str]] = []
        self._persons = self._open(folder / "persons.csv", PERSON_COLUMNS)
        self._records = self._open(folder / "records.csv", RECORD_COLUMNS)
        self._defects = self._open(folder / "defects.csv", DEFECT_COLUMNS)
        self._identities = self._open(folder / "identities.csv", IDENTITY_COLUMNS)
        self._seen_identities: set[tuple[str, str, str]] = set()
        self.persons = 0
        self.records: Counter[tuple[str, str]] = Counter()  # (source, kind) -> count
        self.defects: Counter[str] = Counter()  # defect -> count

    def _open(self, path: Path, header: tuple[str, ...]) -> _Writer:
        f = path.open("w", encoding="utf-8", newline="")
        self._files.append(f)
        w = _Writer(f)
        w.row(header)
        return w

    def rel(self, path: Path) -> str:
        """`path` relative to OUT with `/` separators, as truth files name files."""
        return path.relative_to(self.root).as_posix()

    def person(self, p: Person) -> None:
        self.persons += 1
        self._persons.row((
            p.person_id, p.given, p.middle, p.family, p.maiden_family, p.sex,
            p.birth_date.isoformat(), p.death_date.isoformat() if p.death_date else "",
            p.ssn, p.address_line, p.city, p.state, p.zip, p.previous_address_line,
            p.previous_city, p.previous_zip, p.moved_on.isoformat() if p.moved_on else "",
            p.phone, p.email, p.race, p.ethnicity, p.language, p.marital,
        ))

    def record(self, source: str, kind: str, file: str, record_key: str, person_id: str) -> None:
        """The true person behind one emitted record that identifies a patient."""
        self.records[(source, kind)] += 1
        self._records.row((source, kind, file, record_key, person_id))

    def defect(self, defect: str, source: str, file: str, location: str, detail: str = "") -> None:
        """One injected defect and where it is."""
        self.defects[defect] += 1
        self._defects.row((defect, source, file, location, detail, "true" if defect in DETECTABLE else "false"))

    def patient_record(
        self, reg: Registration, person_id: str, kind: str, file: str, record_key: str, location: str
    ) -> None:
        """A patient-identifying record written from `reg`: the record row plus one defect row per
        identity variant the registration carries (`typo`, `nickname`, `dob_swap`, …)."""
        self.record(reg.source, kind, file, record_key, person_id)
        identity = (reg.source, reg.mrn, person_id)
        if identity not in self._seen_identities:
            self._seen_identities.add(identity)
            self._identities.row(identity)
        for v in reg.variants:
            self.defect(v, reg.source, file, location, f"{kind} {record_key} of {person_id}")

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []


class _Writer:
    """A minimal CSV row writer (`\\n` line ends, minimal quoting)."""

    __slots__ = ("_w",)

    def __init__(self, f: IO[str]) -> None:
        self._w = csv.writer(f, lineterminator="\n")

    def row(self, values: tuple[str, ...] | list[str]) -> None:
        self._w.writerow(values)
