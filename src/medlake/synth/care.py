"""Treatments: medication orders and their fills, procedures and screenings, immunizations."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from medlake.synth.clinical import Profile, Visit
from medlake.synth.codes import CHILD_SCHEDULE, DRUGS, PROCEDURES, VACCINES, ndc11
from medlake.synth.model import (
    Encounter,
    Immunization,
    MedicationOrder,
    Person,
    Practitioner,
    Procedure,
)
from medlake.synth.population import PERIOD_END, PERIOD_START, age_on

# --- immunizations -----------------------------------------------------------------------------


def _vaccine_visit(day: date, rng: random.Random, key: str) -> Visit:
    start = datetime.combine(day, time(9, 0)) + timedelta(minutes=15 * rng.randint(0, 30))
    return Visit("immunization", start, start + timedelta(minutes=15), ("Z23",), problem=key, vaccines=[key])


def _attach(visits: list[Visit], extra: list[Visit], day: date, key: str, rng: random.Random, window: int) -> None:
    """Give vaccine `key` at an existing office visit within `window` days of `day`, else at a new visit."""
    for v in visits:
        if v.kind in ("wellness", "followup", "ambulatory") and abs((v.start.date() - day).days) <= window:
            v.vaccines.append(key)
            return
    extra.append(_vaccine_visit(day, rng, key))


def plan_immunizations(p: Person, visits: list[Visit], rng: random.Random) -> list[Visit]:
    """Add vaccines to visits (and new vaccination visits); returns the new visits."""
    last = min(PERIOD_END, p.death_date or PERIOD_END)
    extra: list[Visit] = []
    for year in (2021, 2022, 2023):  # influenza season
        day = date(year, 9, 15) + timedelta(days=rng.randint(0, 75))
        age = age_on(p.birth_date, day)
        if day <= last and age >= 1 and rng.random() < (0.72 if age >= 65 else 0.55 if age < 18 else 0.45):
            _attach(visits, extra, day, "flu", rng, 20)
    if age_on(p.birth_date, date(2021, 6, 1)) >= 16 and rng.random() < 0.7:
        brand = "covid_pfizer" if rng.random() < 0.6 else "covid_moderna"
        d1 = date(2021, 1, 15) + timedelta(days=rng.randint(0, 150))
        for d in (d1, d1 + timedelta(days=21 if brand == "covid_pfizer" else 28)):
            if d <= last:
                extra.append(_vaccine_visit(d, rng, brand))
        if rng.random() < 0.6:
            b = date(2021, 10, 1) + timedelta(days=rng.randint(0, 240))
            if b <= last:
                extra.append(_vaccine_visit(b, rng, brand))
        if rng.random() < 0.3:
            b = date(2023, 9, 20) + timedelta(days=rng.randint(0, 90))
            if b <= last:
                extra.append(_vaccine_visit(b, rng, "covid_unspecified"))
    if age_on(p.birth_date, PERIOD_START) < 12 and rng.random() < 0.9:
        for months, key in CHILD_SCHEDULE:
            day = _add_months(p.birth_date, months) + timedelta(days=rng.randint(0, 20))
            if PERIOD_START <= day <= last:
                _attach(visits, extra, day, key, rng, 10)
    age = age_on(p.birth_date, PERIOD_START)
    if age >= 50 and rng.random() < 0.2:
        d = PERIOD_START + timedelta(days=rng.randint(0, 800))
        for dd in (d, d + timedelta(days=rng.randint(60, 180))):
            if dd <= last:
                _attach(visits, extra, dd, "zoster", rng, 30)
    if age >= 65 and rng.random() < 0.15:
        _attach(visits, extra, PERIOD_START + timedelta(days=rng.randint(0, 1000)), "ppsv23", rng, 60)
    return [v for v in extra if v.start.date() <= last]


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def immunizations_for(enc: Encounter, v: Visit, rng: random.Random, sources: tuple[str, ...]) -> list[Immunization]:
    out = []
    for n, key in enumerate(v.vaccines):
        vac = VACCINES[key]
        out.append(Immunization(
            immunization_id=f"{enc.encounter_id}-I{n + 1}", encounter_id=enc.encounter_id, cvx=vac.cvx,
            display=vac.display, date=enc.start.date(),
            lot=f"{rng.choice('ABCDEFGHKLMNPRSTUVWXYZ')}{rng.randint(1000, 9999)}{rng.choice('ABCDEF')}", sources=sources))
    return out


# --- procedures --------------------------------------------------------------------------------


def procedure_keys(v: Visit, rng: random.Random, age: int) -> list[str]:
    keys: list[str] = []
    if v.screening:
        keys.append(v.screening)
    if v.kind == "wellness" and age >= 65 and rng.random() < 0.3:
        keys.append("depression_screen")
    if v.kind == "emergency":
        if v.problem in ("chest_pain", "chf"):
            keys += ["ecg", "chest_xray"]
        elif v.problem in ("copd", "asthma", "pneumonia"):
            keys += ["nebulizer", "chest_xray"]
        elif v.problem in ("sprain", "back_pain"):
            keys.append("ketorolac")
    if v.kind == "inpatient":
        if v.problem in ("chf", "chest_pain"):
            keys += ["ecg", "chest_xray"]
        if v.problem == "copd" and rng.random() < 0.3:
            keys.append("ventilation_cpap")
        if rng.random() < 0.1:
            keys.append("picc")
    return keys


def procedures_for(enc: Encounter, keys: list[str], rng: random.Random, sources: tuple[str, ...]) -> list[Procedure]:
    out = []
    span = max(int((enc.end - enc.start).total_seconds() // 60) - 5, 1)
    for n, key in enumerate(keys):
        system, code, display = PROCEDURES[key]
        out.append(Procedure(procedure_id=f"{enc.encounter_id}-P{n + 1}", encounter_id=enc.encounter_id,
                             system=system, code=code, display="" if system == "CPT" else display,
                             performed=enc.start + timedelta(minutes=rng.randint(5, min(span, 600))), sources=sources))
    return out


# --- medications -------------------------------------------------------------------------------

_REGIMENS: dict[str, tuple[tuple[str, float], ...]] = {
    "diabetes": (("metformin", 0.85),),
    "hypertension": (("lisinopril", 0.6), ("amlodipine", 0.4)),
    "chf": (("furosemide", 0.9), ("lisinopril", 0.6), ("clopidogrel", 0.25)),
    "copd": (("fluticasone_salmeterol", 0.7), ("albuterol", 0.9)),
    "asthma": (("albuterol", 0.9), ("fluticasone", 0.5)),
    "depression": (("sertraline", 0.55),),
}


def regimen(pr: Profile, age: int, rng: random.Random) -> dict[str, str]:
    """drug key -> the condition it treats, chosen once per person."""
    out: dict[str, str] = {}
    for cond, drugs in _REGIMENS.items():
        if pr.has(cond):
            for drug, prob in drugs:
                if rng.random() < prob:
                    out.setdefault(drug, cond)
    if (pr.has("hyperlipidemia") or (pr.has("diabetes") and age >= 40)) and rng.random() < 0.75:
        out["atorvastatin" if rng.random() < 0.4 else "simvastatin"] = "hyperlipidemia" if pr.has("hyperlipidemia") else "diabetes"
    return out


def order(drug_key: str, enc: Encounter, n: int, prescriber: Practitioner, rng: random.Random,
          until: date, sources: tuple[str, ...]) -> MedicationOrder:
    d = DRUGS[drug_key]
    days = 30 if rng.random() < 0.6 else 90
    refills = 11 if days == 30 else 3
    start = enc.start.date()
    qty = max(1.0, round(d.per_day * days))
    fills: list[date] = []
    day = start + timedelta(days=rng.randint(0, 4))
    for _ in range(refills + 1):
        if day > until:
            break
        fills.append(day)
        if rng.random() > 0.9:  # stops filling
            break
        day += timedelta(days=days + int(rng.gauss(2, 4)))
    return MedicationOrder(
        order_id=f"{enc.encounter_id}-M{n + 1}", encounter_id=enc.encounter_id, rxnorm=d.rxnorm, display=d.display,
        ndc=ndc11(d.ndc10), ndc10=d.ndc10, dose=d.dose, sig=d.sig, quantity=qty, days_supply=days, refills=refills,
        start=start, stop=min(until, start + timedelta(days=days * (refills + 1))), prescriber=prescriber,
        fill_dates=tuple(fills), sources=sources)
