"""Who the people are: demographics, coverage and which systems know them.

Every derivation is a pure function of `(seed, person index, purpose)` through `derive`
(BLAKE2b, never Python's salted `hash`), so a person is the same whatever else is generated,
and a neighbour's registrations can be recomputed without keeping the population.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from typing import Any

from medlake.synth.model import (
    ADT,
    CLAIMS,
    CLINIC,
    EHR,
    FHIR_EHR,
    LAB,
    PHARMACY,
    WEARABLES,
    Coverage,
    Person,
    WearableDevice,
)

PERIOD_START = date(2021, 1, 1)
PERIOD_END = date(2023, 12, 31)
HOME_TZ = "America/Chicago"


def derive(seed: int, *parts: object) -> int:
    """A 64-bit integer derived from the seed and `parts` (stable across runs and platforms)."""
    key = "|".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(derive(seed, *parts))


def person_id(index: int) -> str:
    return f"P{index + 1:07d}"


# --- demographics ---------------------------------------------------------------------------

_CITIES: tuple[tuple[str, str, str, int], ...] = (
    # city, state, zip prefix, weight
    ("Chicago", "IL", "606", 55), ("Evanston", "IL", "602", 4), ("Oak Park", "IL", "603", 3),
    ("Cicero", "IL", "608", 3), ("Skokie", "IL", "600", 3), ("Naperville", "IL", "605", 5),
    ("Aurora", "IL", "605", 5), ("Joliet", "IL", "604", 5), ("Schaumburg", "IL", "601", 4),
    ("Waukegan", "IL", "600", 3), ("Gary", "IN", "464", 3), ("Hammond", "IN", "463", 3),
)
_AREA = {"IL": ("312", "773", "872", "708", "847", "630", "815"), "IN": ("219",)}
_RACES = (("2106-3", "White", 55), ("2054-5", "Black or African American", 25), ("2028-9", "Asian", 7),
          ("1002-5", "American Indian or Alaska Native", 1), ("2076-8", "Native Hawaiian or Other Pacific Islander", 1),
          ("2131-1", "Other Race", 11))
_HISP_GIVEN_M = ("José", "Juan", "Luis", "Carlos", "Andrés", "Martín", "Jesús", "Miguel", "Raúl")
_HISP_GIVEN_F = ("María", "Sofía", "Inés", "Lucía", "Ana", "Guadalupe", "Verónica", "Mónica", "Rocío")
_HISP_FAMILY = ("García", "Martínez", "Rodríguez", "Hernández", "López", "González", "Pérez", "Sánchez",
                "Ramírez", "Muñoz", "Peña", "Núñez", "Ibáñez", "Díaz", "Gómez", "Jiménez")
_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "comcast.net")
# Age bands (years at PERIOD_END) with weights, roughly the US pyramid.
_AGE_BANDS = ((0, 4, 6), (5, 17, 16), (18, 29, 16), (30, 44, 20), (45, 64, 25), (65, 79, 13), (80, 98, 4))


def _pick(rng: random.Random, items: tuple[Any, ...], weight_at: int) -> Any:
    return rng.choices(items, weights=[it[weight_at] for it in items])[0]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def make_person(seed: int, index: int, fake: Any) -> Person:
    """The true identity of person `index` (Faker instance re-seeded for this person)."""
    rng = rng_for(seed, "person", index)
    fake.seed_instance(derive(seed, "faker", index))
    sex = "F" if rng.random() < 0.51 else "M"
    lo, hi, _ = _pick(rng, _AGE_BANDS, 2)
    birth = PERIOD_END - timedelta(days=rng.randint(lo * 365 + 1, hi * 365 + 364))
    race, race_display, _ = _pick(rng, _RACES, 2)
    hispanic = rng.random() < 0.25
    if hispanic and rng.random() < 0.6:
        given = rng.choice(_HISP_GIVEN_F if sex == "F" else _HISP_GIVEN_M)
        family = rng.choice(_HISP_FAMILY)
    else:
        given = fake.first_name_female() if sex == "F" else fake.first_name_male()
        family = fake.last_name()
    middle = (fake.first_name_female() if sex == "F" else fake.first_name_male()) if rng.random() < 0.7 else ""
    city, state, zip3, _ = _pick(rng, _CITIES, 3)
    age = age_on(birth, PERIOD_END)
    marital = "S" if age < 22 else rng.choices("SMDW", weights=(30, 50, 12, 8 if age > 60 else 2))[0]
    maiden = ""
    if sex == "F" and marital == "M" and 20 <= age <= 50 and rng.random() < 0.08:
        maiden, family = family, fake.last_name()
    moved = rng.random() < 0.08
    prev_line = prev_city = prev_zip = ""
    moved_on = None
    if moved:
        prev_line = fake.street_address()
        prev_city, _s, prev_z3, _w = _pick(rng, tuple(c for c in _CITIES if c[1] == state), 3)
        prev_zip = f"{prev_z3}{rng.randint(1, 99):02d}"
        moved_on = PERIOD_START + timedelta(days=rng.randint(90, 900))
    language = "en"
    if hispanic and rng.random() < 0.4:
        language = "es"
    elif race == "2028-9" and rng.random() < 0.2:
        language = "zh"
    elif rng.random() < 0.01:
        language = "pl"
    death = None
    if rng.random() < (0.01 if age < 65 else 0.04 if age < 80 else 0.12):
        death = PERIOD_START + timedelta(days=rng.randint(60, (PERIOD_END - PERIOD_START).days))
        if death <= birth:
            death = None
    email_name = f"{given}.{family}".lower().translate(_ASCII).replace(" ", "").replace("'", "")
    return Person(
        person_id=person_id(index), index=index, given=given, family=family, middle=middle,
        maiden_family=maiden, sex=sex, birth_date=birth, death_date=death,
        ssn=f"9{rng.randint(0, 99):02d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}",
        address_line=fake.street_address(), city=city, state=state, zip=f"{zip3}{rng.randint(1, 99):02d}",
        previous_address_line=prev_line, previous_city=prev_city, previous_zip=prev_zip, moved_on=moved_on,
        phone=f"{rng.choice(_AREA[state])}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        email=f"{email_name}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}" if age >= 13 else "",
        race=race, race_display=race_display,
        ethnicity="2135-2" if hispanic else "2186-5",
        ethnicity_display="Hispanic or Latino" if hispanic else "Not Hispanic or Latino",
        language=language, marital=marital,
    )


_ASCII = str.maketrans("áéíóúñüÁÉÍÓÚÑÜ", "aeiounuAEIOUNU")

# --- which systems know the person -----------------------------------------------------------

# weight of each system when drawing a person's systems
_SYSTEM_WEIGHTS: tuple[tuple[str, float], ...] = (
    (EHR, 0.55), (CLINIC, 0.35), (FHIR_EHR, 0.35), (LAB, 0.4), (ADT, 0.2), (CLAIMS, 0.5),
    (PHARMACY, 0.35), (WEARABLES, 0.12),
)
_COUNTS = ((1, 10), (2, 30), (3, 30), (4, 18), (5, 8), (6, 4))


def registered_sources(seed: int, index: int) -> tuple[str, ...]:
    """The systems person `index` is registered in (pure function; most people in 2–4)."""
    rng = rng_for(seed, "systems", index)
    k = rng.choices([c for c, _ in _COUNTS], weights=[w for _, w in _COUNTS])[0]
    pool = list(_SYSTEM_WEIGHTS)
    chosen: list[str] = []
    while len(chosen) < k and pool:
        name = rng.choices([n for n, _ in pool], weights=[w for _, w in pool])[0]
        chosen.append(name)
        pool = [p for p in pool if p[0] != name]
    return tuple(s for s, _ in _SYSTEM_WEIGHTS if s in chosen)


def base_mrn(source: str, index: int) -> str:
    """The MRN a system gives person `index` (unique per system; the hospital EHR and its ADT share one)."""
    if source in (EHR, ADT):
        return f"{(index * 7919 + 1000003) % 90000000 + 10000000:08d}"
    if source == CLINIC:
        return f"C{(index * 104729 + 17) % 1000000:06d}"
    if source == FHIR_EHR:
        return f"FE{(index * 7 + 3) % 10**7:07d}"
    if source == LAB:
        return f"L{(index * 9973 + 11) % 10**7:07d}"
    if source == PHARMACY:
        return f"{(index * 6133 + 1) % 10**7:07d}"
    return f"U{(index * 4987 + 5) % 10**8:08d}"


# --- coverage ----------------------------------------------------------------------------------

_COMMERCIAL = (("BCLK1", "Lakeshore Blue PPO", "PPO Gold"), ("PRHM2", "Prairie Health HMO", "HMO Select"),
               ("MDWC3", "Midwest Commercial Health", "EPO Silver"))


def _member(rng: random.Random, kind: str) -> str:
    if kind == "medicare":  # MBI-like: 11 chars, no S L O I B Z
        letters = "ACDEFGHJKMNPQRTUVWXY"
        return (f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters + '0123456789')}{rng.randint(0, 9)}"
                f"{rng.choice(letters)}{rng.choice(letters + '0123456789')}{rng.randint(0, 9)}"
                f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 9)}{rng.randint(0, 9)}")
    if kind == "medicaid":
        return f"{rng.randint(100000000, 999999999)}"
    return f"{rng.choice('XYZWK')}{rng.choice('ABCDEFGH')}{rng.choice('JKLMN')}{rng.randint(10**8, 10**9 - 1)}"


def coverages_for(p: Person, rng: random.Random) -> tuple[Coverage, ...]:
    """Coverage periods over the window: Medicare at 65, Medicaid, commercial, some uninsured."""
    out: list[Coverage] = []
    turns65 = date(p.birth_date.year + 65, p.birth_date.month, min(p.birth_date.day, 28))
    first_kind = rng.choices(("commercial", "medicaid", "none"), weights=(
        (45, 45, 10) if age_on(p.birth_date, PERIOD_START) < 18 else (64, 22, 14)))[0]
    start = PERIOD_START - timedelta(days=rng.randint(30, 2000))
    if turns65 <= PERIOD_START:
        first_kind = "medicare"
        start = max(turns65, start)
    end_of_first = turns65 - timedelta(days=1) if PERIOD_START < turns65 <= PERIOD_END else None
    if first_kind == "commercial" and end_of_first is None and rng.random() < 0.15:
        end_of_first = PERIOD_START + timedelta(days=rng.randint(200, 800))  # job change
    if first_kind != "none":
        out.append(_coverage(rng, first_kind, start, end_of_first))
    if end_of_first is not None:
        nxt = "medicare" if end_of_first + timedelta(days=1) >= turns65 else "commercial"
        out.append(_coverage(rng, nxt, end_of_first + timedelta(days=1), None))
    return tuple(out)


def _coverage(rng: random.Random, kind: str, start: date, end: date | None) -> Coverage:
    if kind == "medicare":
        pid, name, plan = "MCRIL", "Medicare", "Medicare Part A and B"
    elif kind == "medicaid":
        pid, name, plan = "MCDIL", "Illinois Medicaid", "Medicaid Managed Care"
    else:
        pid, name, plan = rng.choice(_COMMERCIAL)
    return Coverage(payer_id=pid, payer_name=name, payer_type=kind, member_id=_member(rng, kind),
                    group_number="" if kind != "commercial" else f"G{rng.randint(10000, 99999)}",
                    plan=plan, start=start, end=end)


def coverage_on(coverages: tuple[Coverage, ...], day: date) -> Coverage | None:
    for c in coverages:
        if c.start <= day and (c.end is None or day <= c.end):
            return c
    return None


def wearable_for(p: Person, rng: random.Random, obese: bool) -> WearableDevice:
    age = age_on(p.birth_date, PERIOD_END)
    base = 9000 - max(0, age - 40) * 80 - (2500 if obese else 0)
    return WearableDevice(
        device_id=f"FT-{rng.getrandbits(40):010X}",
        model=rng.choice(("FitTrack Charge 5", "FitTrack Versa 3", "PulseBand 2", "StrideWatch SE")),
        start=PERIOD_END - timedelta(days=rng.randint(120, 700)),
        mean_steps=max(1500, base + rng.randint(-2000, 2500)),
        resting_hr=rng.randint(56, 78) + (6 if obese else 0),
    )
