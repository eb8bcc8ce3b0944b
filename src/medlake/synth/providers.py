"""The synthetic health system's facilities and practitioners (fixed, independent of the seed)."""

from __future__ import annotations

import random

from medlake.synth.codes import SPECIALTIES
from medlake.synth.model import Facility, Practitioner

TZ = "America/Chicago"


def luhn_npi(base9: int) -> str:
    """A valid 10-digit NPI from 9 digits (Luhn over the `80840` prefix, as CMS specifies)."""
    digits = f"{base9:09d}"
    total = 24  # the constant contribution of the 80840 prefix
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


HOSPITAL = Facility(facility_id="LGH", name="Lakeshore General Hospital", npi=luhn_npi(154321678), tz=TZ,
                    address_line="1200 N Lake Shore Dr", city="Chicago", state="IL", zip="60610", tax_id="36-4821937")
MEDICAL_CENTER = Facility(facility_id="RHMC", name="Riverside Health Medical Center", npi=luhn_npi(165432109), tz=TZ,
                          address_line="801 S Washington St", city="Naperville", state="IL", zip="60540", tax_id="36-5930142")
CLINIC_SITE = Facility(facility_id="NFC", name="Northside Family Clinic", npi=luhn_npi(176543210), tz=TZ,
                       address_line="2650 Ridge Ave", city="Evanston", state="IL", zip="60201", tax_id="36-6049215")
REFERENCE_LAB = Facility(facility_id="GLRL", name="Great Lakes Reference Laboratory", npi=luhn_npi(187654321), tz=TZ,
                         address_line="55 E Monroe St", city="Chicago", state="IL", zip="60603", tax_id="36-7158326")
FACILITIES: tuple[Facility, ...] = (HOSPITAL, MEDICAL_CENTER, CLINIC_SITE, REFERENCE_LAB)

_GIVEN = ("Anita", "Brian", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Irene", "Jamal",
          "Karen", "Lars", "Maya", "Nikhil", "Olivia", "Pavel", "Quinn", "Rosa", "Samuel", "Tara")
_FAMILY = ("Okafor", "Lindqvist", "Castillo", "Nakamura", "Brennan", "Haddad", "Kowalski", "Mehta",
           "Osei", "Petrov", "Reyes", "Schmidt", "Takahashi", "Underwood", "Vasquez", "Whitfield")


def _pool() -> dict[str, tuple[Practitioner, ...]]:
    rng = random.Random(20240601)
    out: dict[str, tuple[Practitioner, ...]] = {}
    n = 0
    for key, (code, display) in SPECIALTIES.items():
        people = []
        for _ in range(6 if key in ("family", "internal", "emergency", "hospitalist") else 3):
            n += 1
            people.append(Practitioner(npi=luhn_npi(120000000 + n * 7331), given=rng.choice(_GIVEN),
                                       family=rng.choice(_FAMILY), specialty=code, specialty_display=display))
        out[key] = tuple(people)
    return out


PRACTITIONERS: dict[str, tuple[Practitioner, ...]] = _pool()


def practitioner(rng: random.Random, specialty: str) -> Practitioner:
    return rng.choice(PRACTITIONERS[specialty])
