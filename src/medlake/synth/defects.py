"""Defects real feeds have: identity variants per registration, and file-level damage.

Identity variants are decided here, per (person, system), and carried on the `Registration`
(`variants`); the emitter that prints the registration reports them to the truth writer with
`truth.patient_record`. File-level defects (truncation, encoding, drift, ragged rows, …) are
applied by the emitters with the helpers below and reported where they are.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from medlake.synth.model import ADT, CLAIMS, EHR, WEARABLES, Coverage, Person, Registration
from medlake.synth.population import base_mrn, derive, registered_sources, rng_for
from medlake.synth.truth import TruthWriter

# Rates per registration (documented in docs/synthetic-data.md).
RATES: dict[str, float] = {
    "typo": 0.03,  # one edit in the given or family name
    "nickname": 0.25,  # of registrations whose given name has a common nickname
    "dob_swap": 0.01,  # day and month swapped (only where both are ≤ 12 and differ)
    "missing_dob": 0.005,
    "married_name": 0.5,  # of registrations of a person whose family name changed: still the maiden name
    "old_address": 0.5,  # of registrations of a person who moved: still the previous address
    "duplicate_mrn": 0.003,  # MRN already given to another person of the same system
}

NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"), "Richard": ("Rick", "Dick"),
    "James": ("Jim", "Jimmy"), "John": ("Jack", "Johnny"), "Michael": ("Mike",), "Thomas": ("Tom", "Tommy"),
    "Joseph": ("Joe",), "Charles": ("Chuck", "Charlie"), "Christopher": ("Chris",), "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",), "Anthony": ("Tony",), "Steven": ("Steve",), "Edward": ("Ed", "Ted"),
    "Elizabeth": ("Liz", "Beth", "Betty"), "Margaret": ("Peggy", "Maggie"), "Katherine": ("Kate", "Kathy"),
    "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty"), "Susan": ("Sue",), "Deborah": ("Debbie",),
    "Jessica": ("Jess",), "Rebecca": ("Becky",), "Samantha": ("Sam",), "Alexander": ("Alex",),
    "Benjamin": ("Ben",), "Nicholas": ("Nick",), "Jonathan": ("Jon",), "Andrew": ("Andy", "Drew"),
    "David": ("Dave",), "Kenneth": ("Ken",), "Ronald": ("Ron",), "Donald": ("Don",), "Timothy": ("Tim",),
    "Gregory": ("Greg",), "Jeffrey": ("Jeff",), "Stephanie": ("Steph",), "Victoria": ("Vicky",),
    "Christina": ("Tina",), "Barbara": ("Barb",), "Cynthia": ("Cindy",), "Pamela": ("Pam",),
    "Sandra": ("Sandy",), "Kimberly": ("Kim",), "Amanda": ("Mandy",), "Theresa": ("Terry",),
    "José": ("Pepe",), "Guadalupe": ("Lupe",), "Francisco": ("Paco",), "Kathleen": ("Kathy",),
    "Joshua": ("Josh",), "Zachary": ("Zach",), "Nathaniel": ("Nate",), "Abigail": ("Abby",),
}


def typo(rng: random.Random, s: str) -> str:
    """One keyboard-style edit: swap two neighbours, drop, double or substitute a letter."""
    if len(s) < 3:
        return s + s[-1]
    i = rng.randint(1, len(s) - 2)
    op = rng.randint(0, 3)
    if op == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op == 1:
        return s[:i] + s[i + 1:]
    if op == 2:
        return s[:i] + s[i] + s[i:]
    sub = rng.choice("aeiourstnl")
    return s[:i] + (sub if sub != s[i] else "y") + s[i + 1:]


def _dup_mrn(seed: int, source: str, index: int) -> str | None:
    """When this registration draws a duplicate MRN: the MRN of the nearest earlier person in the system."""
    key = EHR if source == ADT else source  # the ADT feed shares the hospital MRN
    if derive(seed, "dupmrn", key, index) / 2**64 >= RATES["duplicate_mrn"]:
        return None
    for j in range(index - 1, max(index - 40, -1), -1):
        known = registered_sources(seed, j)
        if (EHR in known or ADT in known) if key == EHR else source in known:
            return base_mrn(source, j)
    return None


def registrations_for(seed: int, p: Person, sources: tuple[str, ...], coverages: tuple[Coverage, ...]) -> tuple[Registration, ...]:
    out = []
    for source in sources:
        if source == CLAIMS and not coverages:
            continue
        rng = rng_for(seed, "registration", p.index, EHR if source == ADT else source)
        variants: list[str] = []
        given, family, birth = p.given, p.family, p.birth_date
        line, city, zip_ = p.address_line, p.city, p.zip
        if p.maiden_family and rng.random() < RATES["married_name"]:
            family = p.maiden_family
            variants.append("married_name")
        if p.moved_on and rng.random() < RATES["old_address"]:
            line, city, zip_ = p.previous_address_line, p.previous_city, p.previous_zip
            variants.append("old_address")
        if given in NICKNAMES and rng.random() < RATES["nickname"]:
            given = rng.choice(NICKNAMES[given])
            variants.append("nickname")
        if rng.random() < RATES["typo"]:
            if rng.random() < 0.6:
                family = typo(rng, family)
            else:
                given = typo(rng, given)
            variants.append("typo")
        dob: date | None = birth
        if rng.random() < RATES["dob_swap"] and birth.day <= 12 and birth.day != birth.month:
            dob = date(birth.year, birth.day, birth.month)
            variants.append("dob_swap")
        elif source != WEARABLES and rng.random() < RATES["missing_dob"]:
            dob = None
            variants.append("missing_dob")
        mrn = base_mrn(source, p.index)
        if source == CLAIMS:
            mrn = coverages[0].member_id
        else:
            dup = _dup_mrn(seed, source, p.index)
            if dup is not None:
                mrn = dup
                variants.append("duplicate_mrn")
        out.append(Registration(
            source=source, mrn=mrn, given=given, family=family, middle=p.middle, sex=p.sex, birth_date=dob,
            address_line=line, city=city, state=p.state, zip=zip_, phone=p.phone, email=p.email,
            ssn=p.ssn if source in (EHR, ADT, CLAIMS) else "", variants=tuple(variants)))
    return tuple(out)


# --- file-level defects --------------------------------------------------------------------------


def truncate_last_record(path: Path, truth: TruthWriter, source: str) -> None:
    """Cut the file in the middle of its last record, leaving no final newline."""
    data = path.read_bytes()
    body = data.rstrip(b"\n")
    start = body.rfind(b"\n") + 1
    if start <= 0 or len(body) - start < 4:
        return
    cut = start + (len(body) - start) // 2
    path.write_bytes(data[:cut])
    line = data[:cut].count(b"\n") + 1
    truth.defect("truncated_file", source, truth.rel(path), f"line {line}",
                 f"file cut at byte {cut} of {len(data)}, inside the last record; no final newline")


def null_heavy(truth: TruthWriter, source: str, path: Path, column: str, empty: int, total: int) -> None:
    if total:
        truth.defect("null_heavy_column", source, truth.rel(path), f"column {column}",
                     f"{empty} of {total} values empty ({100 * empty / total:.0f}%)")
