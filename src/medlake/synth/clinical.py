"""Clinical rules: which chronic conditions a person has, and the encounters they lead to.

Prevalence rises with age (adults: diabetes ~10 %, hypertension ~30 %, …); utilisation follows
the conditions (follow-ups per chronic condition, ED visits and admissions for CHF/COPD/asthma,
30-day readmissions after CHF/COPD stays).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from medlake.synth.codes import ACUTE, CHRONIC
from medlake.synth.model import Person
from medlake.synth.population import PERIOD_END, PERIOD_START, age_on

# Probability of each chronic condition by age band (years at the period start).
_PREVALENCE: dict[str, tuple[float, float, float, float]] = {
    #                child  18–44  45–64  65+
    "diabetes": (0.002, 0.04, 0.13, 0.22),
    "hypertension": (0.01, 0.12, 0.40, 0.63),
    "hyperlipidemia": (0.0, 0.08, 0.33, 0.48),
    "chf": (0.0, 0.002, 0.015, 0.08),
    "copd": (0.0, 0.01, 0.05, 0.10),
    "ckd": (0.0, 0.01, 0.05, 0.14),
    "depression": (0.03, 0.09, 0.08, 0.07),
    "asthma": (0.08, 0.08, 0.08, 0.07),
    "obesity": (0.18, 0.36, 0.42, 0.38),
}


def _band(age: int) -> int:
    return 0 if age < 18 else 1 if age < 45 else 2 if age < 65 else 3


@dataclass(slots=True)
class Profile:
    """The person's clinical state: conditions with onset dates and baseline measurements."""

    conditions: dict[str, date] = field(default_factory=dict)  # key -> onset
    height_cm: float = 170.0
    bmi: float = 25.0
    sbp: float = 120.0
    dbp: float = 78.0
    a1c: float = 5.3
    ldl: float = 110.0
    egfr: float = 92.0

    def has(self, key: str) -> bool:
        return key in self.conditions


def profile_for(p: Person, rng: random.Random) -> Profile:
    age = age_on(p.birth_date, PERIOD_START)
    band = _band(age)
    pr = Profile()
    for key, probs in _PREVALENCE.items():
        if rng.random() < probs[band]:  # CKD: diabetes/hypertension raise it below
            pr.conditions[key] = _onset(p, rng)
    if ("diabetes" in pr.conditions or "hypertension" in pr.conditions) and band >= 2 and rng.random() < 0.06:
        pr.conditions.setdefault("ckd", _onset(p, rng))
    if "diabetes" in pr.conditions and rng.random() < 0.4:
        pr.conditions.setdefault("obesity", _onset(p, rng))
    if age >= 18:
        pr.height_cm = rng.gauss(176 if p.sex == "M" else 163, 7)
    else:
        pr.height_cm = min(50 + age * 6.5, 170) + rng.gauss(0, 4)
    pr.bmi = rng.uniform(30, 42) if "obesity" in pr.conditions else rng.uniform(19, 29.5)
    if age < 18:
        pr.bmi = rng.uniform(15, 21) if "obesity" not in pr.conditions else rng.uniform(24, 31)
    if "hypertension" in pr.conditions:
        controlled = rng.random() < 0.55
        pr.sbp, pr.dbp = (rng.uniform(122, 138), rng.uniform(72, 86)) if controlled else (rng.uniform(140, 165), rng.uniform(88, 102))
    else:
        pr.sbp, pr.dbp = rng.uniform(102, 128), rng.uniform(62, 81)
    if "diabetes" in pr.conditions:
        r = rng.random()
        pr.a1c = rng.uniform(6.3, 7.9) if r < 0.5 else rng.uniform(8.0, 9.0) if r < 0.72 else rng.uniform(9.1, 12.5)
    else:
        pr.a1c = rng.uniform(4.6, 5.6) if rng.random() < 0.85 else rng.uniform(5.7, 6.4)
    pr.ldl = rng.uniform(120, 190) if "hyperlipidemia" in pr.conditions else rng.uniform(60, 135)
    pr.egfr = rng.uniform(32, 58) if "ckd" in pr.conditions else rng.uniform(65, 118) - max(0, age - 40) * 0.4
    return pr


def _onset(p: Person, rng: random.Random) -> date:
    """Most chronic conditions began before the window; ~12 % are diagnosed during it."""
    if rng.random() < 0.12:
        return PERIOD_START + timedelta(days=rng.randint(30, (PERIOD_END - PERIOD_START).days - 60))
    earliest = max(p.birth_date + timedelta(days=365 * 2), PERIOD_START - timedelta(days=365 * 15))
    span = (PERIOD_START - earliest).days
    return earliest + timedelta(days=rng.randint(0, max(span - 1, 0)))


CHRONIC_FOLLOWUP = ("diabetes", "hypertension", "chf", "copd", "ckd", "depression", "asthma")


@dataclass(slots=True)
class Visit:
    """An encounter before it is placed in a system: what, when and why."""

    kind: str  # wellness | ambulatory | followup | telehealth | emergency | inpatient | screening
    start: datetime
    end: datetime
    reasons: tuple[str, ...]  # ICD-10-CM codes
    problem: str = ""  # condition/acute key driving it
    index_stay: Visit | None = None  # for a 30-day readmission: the index stay
    screening: str = ""  # "mammogram" | "colonoscopy"
    vaccines: list[str] = field(default_factory=list)  # vaccine keys given at this visit


def _clinic_time(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(8, 0)) + timedelta(minutes=15 * rng.randint(0, 34))


def _rand_day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max((hi - lo).days, 0)))


def _poisson(rng: random.Random, lam: float) -> int:
    n, t = 0, rng.expovariate(1.0)
    while t < lam:
        n += 1
        t += rng.expovariate(1.0)
    return n


def plan_visits(p: Person, pr: Profile, rng: random.Random) -> list[Visit]:
    """Every encounter of the window, sorted by start."""
    last = min(PERIOD_END, p.death_date or PERIOD_END)
    visits: list[Visit] = []
    for year in (2021, 2022, 2023):
        lo, hi = max(date(year, 1, 1), p.birth_date + timedelta(days=3)), min(date(year, 12, 31), last)
        if lo > hi:
            continue
        age = age_on(p.birth_date, lo)
        visits += _wellness(p, pr, rng, lo, hi, age)
        visits += _followups(pr, rng, lo, hi)
        for _ in range(_poisson(rng, 0.9 if age < 18 else 0.6)):
            visits.append(_acute_visit(rng, lo, hi, age))
        ed_rate = 0.12 + 0.35 * pr.has("chf") + 0.3 * pr.has("copd") + 0.15 * pr.has("asthma")
        for _ in range(_poisson(rng, ed_rate)):
            visits.append(_ed_visit(pr, rng, lo, hi, age))
        ip_rate = 0.015 + 0.35 * pr.has("chf") + 0.25 * pr.has("copd") + (0.08 if age >= 75 else 0)
        for _ in range(_poisson(rng, ip_rate)):
            visits += _stay(pr, rng, lo, hi)
    visits.sort(key=lambda v: v.start)
    for i, v in enumerate(visits):  # readmission flags point at indexes after sorting
        if v.kind == "inpatient" and v.problem.startswith("readmit:"):
            v.problem = v.problem.removeprefix("readmit:")
            v.index_stay = next((visits[j] for j in range(i - 1, -1, -1) if visits[j].kind == "inpatient"), None)
    return [v for v in visits if v.start.date() <= last]


def _wellness(p: Person, pr: Profile, rng: random.Random, lo: date, hi: date, age: int) -> list[Visit]:
    out: list[Visit] = []
    if rng.random() < (0.85 if age < 18 else 0.55 if age < 65 else 0.7):
        day = _rand_day(rng, lo, hi)
        start = _clinic_time(rng, day)
        out.append(Visit("wellness", start, start + timedelta(minutes=rng.choice((30, 40, 45))),
                         ("Z00129" if age < 18 else "Z0000",)))
    if p.sex == "F" and 50 <= age <= 74 and rng.random() < 0.38:
        day = _rand_day(rng, lo, hi)
        start = _clinic_time(rng, day)
        out.append(Visit("screening", start, start + timedelta(minutes=30), ("Z1231",), screening="mammogram"))
    if 45 <= age <= 75 and rng.random() < 0.07:
        day = _rand_day(rng, lo, hi)
        start = datetime.combine(day, time(7, 0)) + timedelta(minutes=30 * rng.randint(0, 14))
        out.append(Visit("screening", start, start + timedelta(minutes=rng.randint(60, 120)), ("Z1211",),
                         screening="colonoscopy"))
    return out


def _followups(pr: Profile, rng: random.Random, lo: date, hi: date) -> list[Visit]:
    keys = [k for k in CHRONIC_FOLLOWUP if k in pr.conditions and pr.conditions[k] <= hi]
    if not keys:
        return []
    n = _poisson(rng, min(1.2 + 0.9 * len(keys), 6.0))
    out = []
    for _ in range(n):
        key = rng.choice(keys)
        day = _rand_day(rng, max(lo, pr.conditions[key]), hi)
        start = _clinic_time(rng, day)
        kind = "telehealth" if rng.random() < 0.12 else "followup"
        out.append(Visit(kind, start, start + timedelta(minutes=rng.choice((15, 20, 30))),
                         (CHRONIC[key].icd10,), problem=key))
    return out


def _acute_visit(rng: random.Random, lo: date, hi: date, age: int) -> Visit:
    pool = ("uri", "otitis", "uri", "bronchitis", "sprain") if age < 18 else (
        "uri", "uti", "back_pain", "bronchitis", "sprain", "covid")
    key = rng.choice(pool)
    day = _rand_day(rng, lo, hi)
    if key == "covid" and day < date(2021, 1, 1):
        key = "uri"
    start = _clinic_time(rng, day)
    return Visit("ambulatory", start, start + timedelta(minutes=rng.choice((15, 20, 25))), (ACUTE[key].icd10,), problem=key)


def _ed_visit(pr: Profile, rng: random.Random, lo: date, hi: date, age: int) -> Visit:
    options = ["chest_pain", "sprain", "uti", "pneumonia", "back_pain"]
    options += ["chf"] * 2 * pr.has("chf") + ["copd"] * 2 * pr.has("copd") + ["asthma"] * pr.has("asthma")
    key = rng.choice(options)
    code = CHRONIC[key].icd10 if key in CHRONIC else ACUTE[key].icd10
    if key == "chf":
        code = "I5023"
    elif key == "copd":
        code = "J441"
    day = _rand_day(rng, lo, hi)
    start = datetime.combine(day, time(0, 0)) + timedelta(minutes=rng.randint(0, 1439))
    return Visit("emergency", start, start + timedelta(minutes=rng.randint(110, 480)), (code,), problem=key)


def _stay(pr: Profile, rng: random.Random, lo: date, hi: date) -> list[Visit]:
    options = ["pneumonia", "chest_pain", "other"] + ["chf"] * 4 * pr.has("chf") + ["copd"] * 3 * pr.has("copd")
    key = rng.choice(options)
    code = {"chf": "I5023", "copd": "J441", "pneumonia": "J189", "chest_pain": "R079", "other": "K529"}[key]
    day = _rand_day(rng, lo, hi)
    start = datetime.combine(day, time(0, 0)) + timedelta(minutes=rng.randint(0, 1439))
    los = rng.randint(2, 7) if key in ("chf", "copd", "pneumonia") else rng.randint(1, 3)
    end = datetime.combine(start.date() + timedelta(days=los), time(10, 0)) + timedelta(minutes=rng.randint(0, 360))
    out = [Visit("inpatient", start, end, (code,), problem=key)]
    if key in ("chf", "copd") and rng.random() < 0.2:  # 30-day readmission
        rstart = datetime.combine(end.date() + timedelta(days=rng.randint(3, 29)), time(0, 0)) + timedelta(
            minutes=rng.randint(0, 1439))
        rend = datetime.combine(rstart.date() + timedelta(days=rng.randint(2, 6)), time(11, 0))
        out.append(Visit("inpatient", rstart, rend, (code,), problem="readmit:" + key))
    return out
