"""A fast generator of person records with ground truth, for matching benchmarks and tests.

It reuses the synthetic health system's identity model — `population.make_person`,
`registered_sources`, `coverages_for` and `defects.registrations_for` — so the duplicates carry
the same defects as the full generator's feeds (typos, nicknames, swapped or missing birth
dates, maiden names, old addresses, duplicate MRNs), and prints each registration the way its
source system does (date and sex formats, which fields it holds, clinic phones and emails often
blank). Only the Faker calls are replaced by a light stand-in drawing from Faker's own en_US
name and street tables, which is ~10× faster; the people therefore differ from those of
`medlake synth` with the same seed, but follow the same distributions.

One row per registration: `record_id`, `person_id` (the truth), `source`, `mrn` and the
matcher's roles as text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import accumulate
from multiprocessing import get_context
from typing import Any

import pyarrow as pa

from medlake.synth.defects import registrations_for
from medlake.synth.model import (
    ADT,
    CLAIMS,
    CLINIC,
    EHR,
    FHIR_EHR,
    LAB,
    PHARMACY,
    WEARABLES,
    Registration,
)
from medlake.synth.population import coverages_for, make_person, registered_sources, rng_for

COLUMNS: tuple[str, ...] = (
    "record_id", "person_id", "source", "mrn", "given_name", "family_name", "birth_date", "sex",
    "address_line", "city", "state", "postal_code", "phone", "email", "ssn",
)
RECORDS_PER_PERSON = 2.95  # what the registration model gives on average
_NULL_PHONE, _NULL_EMAIL = 0.6, 0.7  # the clinic export's blank rates (emit_clinic)


class _Names:
    """Faker's en_US tables with their weights, loaded once."""

    def __init__(self) -> None:
        from faker.providers.address.en_US import Provider as Address
        from faker.providers.person.en_US import Provider as Person

        def table(d: Any) -> tuple[list[str], list[float]]:
            return list(d), list(accumulate(d.values()))

        self.female = table(Person.first_names_female)
        self.male = table(Person.first_names_male)
        self.last = table(Person.last_names)
        self.suffixes: Sequence[str] = Address.street_suffixes


class LiteFaker:
    """The four Faker methods `make_person` calls, drawn from Faker's tables by a seeded RNG."""

    _names: _Names | None = None

    def __init__(self) -> None:
        if LiteFaker._names is None:
            LiteFaker._names = _Names()
        self.n = LiteFaker._names
        self.rng = random.Random(0)

    def seed_instance(self, seed: int) -> None:
        self.rng.seed(seed)

    def _draw(self, table: tuple[list[str], list[float]]) -> str:
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    def first_name_female(self) -> str:
        return self._draw(self.n.female)

    def first_name_male(self) -> str:
        return self._draw(self.n.male)

    def last_name(self) -> str:
        return self._draw(self.n.last)

    def street_address(self) -> str:
        r = self.rng
        name = self._draw(self.n.last) if r.random() < 0.5 else self._draw(self.n.male if r.random() < 0.5 else self.n.female)
        line = f"{r.randint(1, 99999)} {name} {r.choice(self.n.suffixes)}"
        if r.random() < 0.2:
            line += f" {r.choice(('Apt.', 'Suite'))} {r.randint(1, 999)}"
        return line


def _dob(reg: Registration, fmt: str) -> str:
    return reg.birth_date.strftime(fmt) if reg.birth_date else ""


def _row(reg: Registration, index: int, rng: random.Random, with_ssn: bool) -> list[str]:
    """The registration printed as its source system prints it (fields it lacks are "")."""
    s = reg.source
    sex = {"M": "Male", "F": "Female"}.get(reg.sex, "Unknown") if s == CLINIC else (
        {"M": "male", "F": "female"}.get(reg.sex, "unknown") if s == FHIR_EHR else reg.sex)
    dob = {EHR: "%Y-%m-%d", FHIR_EHR: "%Y-%m-%d", CLINIC: "%m/%d/%Y"}.get(s, "%Y%m%d")
    full_address = s in (EHR, CLINIC, FHIR_EHR, LAB, ADT, CLAIMS)
    phone = reg.phone if s in (EHR, FHIR_EHR, LAB, ADT) else ""
    email = reg.email if s in (EHR, FHIR_EHR, WEARABLES) else ""
    if s == CLINIC:
        phone = "" if rng.random() < _NULL_PHONE else reg.phone.replace("-", "")
        email = "" if rng.random() < _NULL_EMAIL else reg.email
    ssn = ""
    if with_ssn and reg.ssn:  # synthetic SSNs use the never-issued 9xx area: give them a valid one
        ssn = f"{1 + index % 8}{reg.ssn[1:]}"
    if s == WEARABLES:
        return [s, reg.mrn, reg.given, reg.family, "", "", "", "", "", "", "", email, ""]
    return [
        s, reg.mrn, reg.given, reg.family, _dob(reg, dob), sex,
        reg.address_line if full_address else "", reg.city if full_address else "",
        reg.state if full_address else "", reg.zip if full_address or s == PHARMACY else "",
        phone, email, ssn,
    ]


def _people(seed: int, start: int, stop: int, with_ssn: bool) -> list[list[str]]:
    fake = LiteFaker()
    rows: list[list[str]] = []
    for index in range(start, stop):
        p = make_person(seed, index, fake)
        coverages = coverages_for(p, rng_for(seed, "life", index))
        regs = registrations_for(seed, p, registered_sources(seed, index), coverages)
        rng = rng_for(seed, "people-print", index)
        for reg in regs:
            rows.append([p.person_id, *_row(reg, index, rng, with_ssn)])
    return rows


def person_records(n_records: int, seed: int = 42, *, with_ssn: bool = False, workers: int = 0) -> pa.Table:
    """At most `n_records` person records (a few fewer when the cut would split a person's
    records) with their true `person_id`.

    `workers` > 0 builds chunks in that many spawned processes (worth it from ~100k records).
    """
    persons = max(1, int(n_records / RECORDS_PER_PERSON * 1.02) + 2)
    step = 20_000
    chunks = [(seed, a, min(a + step, persons), with_ssn) for a in range(0, persons, step)]
    if workers > 0 and len(chunks) > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(_people_args, chunks))
    else:
        parts = [_people(*c) for c in chunks]
    rows = [r for part in parts for r in part]
    cut = min(n_records, len(rows))
    while 0 < cut < len(rows) and rows[cut][0] == rows[cut - 1][0]:
        cut -= 1  # do not split a person's records
    rows = rows[:cut]
    columns: dict[str, list[str | None]] = {"record_id": [f"R{i + 1:08d}" for i in range(len(rows))]}
    for j, name in enumerate(COLUMNS[1:]):
        columns[name] = [r[j] or None for r in rows]
    return pa.table(columns, schema=pa.schema([(c, pa.string()) for c in COLUMNS]))


def _people_args(args: tuple[int, int, int, bool]) -> list[list[str]]:
    return _people(*args)
