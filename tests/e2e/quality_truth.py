"""The quality measures computed independently from the generator's world model.

Plain Python over `medlake.synth.history.build_history` (one `PersonHistory` per TRUE person),
not over the lake and not reusing the dbt SQL. It gives, per measure, the flags of each true
person in the initial population for one measurement period: CMS117, CMS122, CMS125, CMS130,
CMS165 (v13, see `../shared/specs/analytics-and-quality.md` and docs/gold.md).

Approximations shared with the dbt models (docs/gold.md "Quality measures"), stated here:

- A fact counts only when a system whose feed carries that kind of fact records it
  (`fact.sources`): encounters from ehr/clinic/fhir_ehr/adt; conditions from ehr/clinic/
  fhir_ehr (the ehr also sends each encounter reason code as an encounter diagnosis, recorded
  at the visit, with no onset or abatement, i.e. ongoing); lab results from clinic/fhir_ehr/lab;
  vital signs from ehr/fhir_ehr; procedures from ehr/fhir_ehr; immunizations from fhir_ehr;
  claim service lines (HCPCS/CPT) from claims. Claim diagnoses are not read.
- Qualifying visit: an encounter of a class in the tenant's `quality_visit_classes` whose whole
  period falls in the measurement period, or a claim line with a public visit HCPCS code
  (annual wellness G0438/G0439, virtual G0071/G2010/G2012/G2250-G2252) in the period. The
  CPT/SNOMED visit value sets are user-supplied and the synthetic encounters carry no coded type.
- Days are UTC days of the recorded instants (the lake stores instants; the models cast them
  to dates in UTC); date-only facts keep their date.
- Age in whole years at period end from the TRUE birth date; a birthday counts on its own day.
- Value sets: only the public codes the project ships (CPT mammography 77067 is not one, so
  CMS125 has no numerator unless the tenant supplies it); ICD-10-CM compared without dots.
- A corrected lab or vital value replaces the first one (the last version wins in silver).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from medlake.synth.model import ADT, CLAIMS, CLINIC, EHR, EMER, FHIR_EHR, IMP, LAB, PersonHistory

FEEDS: dict[str, frozenset[str]] = {
    "encounter": frozenset({EHR, CLINIC, FHIR_EHR, ADT}),
    "condition": frozenset({EHR, CLINIC, FHIR_EHR}),
    "laboratory": frozenset({CLINIC, FHIR_EHR, LAB}),
    "vital-signs": frozenset({EHR, FHIR_EHR}),
    "procedure": frozenset({EHR, FHIR_EHR}),
    "immunization": frozenset({FHIR_EHR}),
    "claim_line": frozenset({CLAIMS}),
}
VISIT_HCPCS = frozenset({"G0438", "G0439", "G0071", "G2010", "G2012", "G2250", "G2251", "G2252"})
HBA1C = frozenset({"4548-4", "4549-2", "17855-8", "17856-6", "97506-0"})
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
MAMMOGRAPHY = frozenset({"24604-1", "24605-8", "24606-6", "24610-8", "26175-0", "26176-8", "26177-6",
                         "26287-3", "26289-9", "26291-5", "26346-7", "26347-5", "26348-3", "26349-1"})
COLONOSCOPY = frozenset({"G0105", "G0121", "18746-8"})
SIGMOIDOSCOPY = frozenset({"G0104", "18500-9"})
# (reason, ICD-10-CM prefixes without dots)
DIABETES = ("E10", "E11", "E13")
HYPERTENSION = ("I10",)
PALLIATIVE = ("Z515",)
FRAILTY = ("L89", "M625", "W01", "W06", "W07", "W08", "W10", "W18", "W19", "M6281", "M6284", "R296",
           "Y92199", "Z593", "Z736", "Z7401", "Z7409", "Z741", "Z742", "Z743", "Z748", "Z749", "Z9181",
           "Z9911", "Z993", "Z9981", "Z9989")
ADVANCED_ILLNESS = ("C25", "C71", "C77", "C78", "C79", "F01", "F02", "F03", "G30", "I50", "J43", "J961",
                    "C9100", "C9200", "C9300", "C9390", "C9400", "C9500", "G10", "G1221", "G20", "G3101",
                    "G3109", "G3183", "I0981", "I110", "I120", "I130", "I1311", "I132", "J684", "J8410",
                    "J84112", "J8417", "J982", "J983", "K7010", "K7011", "K702", "K7030", "K7031", "K7040",
                    "K7041", "K709", "K740", "K741", "K742", "K744", "K745", "K7460", "K7469", "N185", "N186")
COLORECTAL = ("C18", "C19", "C20", "Z85038")
KIDNEY_PREGNANCY = (("end-stage renal disease", ("N186",)), ("chronic kidney disease stage 5", ("N185",)),
                    ("kidney transplant", ("Z940",)), ("dialysis", ("Z992",)),
                    ("pregnancy", ("O", "Z331", "Z34")))
MASTECTOMY_HISTORY = {"Z9013": "bilateral", "Z9011": "right", "Z9012": "left"}
# CVX (without leading zeros) -> antigens it counts for (CMS117)
CVX: dict[str, tuple[str, ...]] = {
    "20": ("dtap",), "106": ("dtap",), "107": ("dtap",), "110": ("dtap", "ipv", "hepb"),
    "120": ("dtap", "ipv", "hib"), "146": ("dtap", "ipv", "hib", "hepb"), "10": ("ipv",), "89": ("ipv",),
    "3": ("mmr",), "94": ("mmr", "vzv"), "17": ("hib",), "46": ("hib",), "47": ("hib",), "48": ("hib",),
    "49": ("hib",), "51": ("hib", "hepb"), "8": ("hepb",), "44": ("hepb",), "45": ("hepb",), "21": ("vzv",),
    "133": ("pcv",), "152": ("pcv",), "215": ("pcv",), "216": ("pcv",), "83": ("hepa",), "85": ("hepa",),
    "31": ("hepa",), "119": ("rv2",), "116": ("rv3",), "122": ("rv3",),
    "88": ("flu",), "140": ("flu",), "141": ("flu",), "150": ("flu",), "153": ("flu",), "155": ("flu",),
    "158": ("flu",), "161": ("flu",), "171": ("flu",), "186": ("flu",), "111": ("laiv",), "149": ("laiv",),
}


@dataclass(frozen=True, slots=True)
class Flags:
    """One true person's result for one measure (only persons in the initial population)."""

    age: int
    denominator: bool
    exclusion_reason: str | None
    numerator: bool

    @property
    def excluded(self) -> bool:
        return self.exclusion_reason is not None


def age_at(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _utc_day(when: datetime, tz: str) -> date:
    return when.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC")).date()


def _norm(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _has(code: str, prefixes: Iterable[str]) -> bool:
    c = _norm(code)
    return any(c.startswith(p) for p in prefixes)


def _recorded(sources: Iterable[str], kind: str) -> bool:
    return bool(set(sources) & FEEDS[kind])


class _World:
    """The person's recorded facts, with UTC days."""

    def __init__(self, h: PersonHistory) -> None:
        self.h = h
        enc = {e.encounter_id: e for e in h.encounters}
        self.enc = enc
        # conditions: (icd10, start, end)
        self.conditions: list[tuple[str, date | None, date | None]] = [
            (c.icd10, c.onset, c.abatement) for c in h.conditions if _recorded(c.sources, "condition")]
        for e in h.encounters:
            if EHR in e.sources:
                self.conditions += [(code, _utc_day(e.start, e.tz), None) for code in e.reason_codes]
        # observations: (loinc, category, day, value, encounter class)
        self.observations: list[tuple[str, str, date, float | str, str]] = []
        for o in h.observations:
            if o.category in FEEDS and _recorded(o.sources, o.category):
                oe = enc.get(o.encounter_id)
                tz = oe.tz if oe else "America/Chicago"
                value = o.corrected_value if o.corrected_value is not None else o.value
                self.observations.append((o.loinc, o.category, _utc_day(o.effective, tz), value,
                                          oe.enc_class if oe else ""))
        # procedures and claim lines: (code, day)
        self.procedures: list[tuple[str, date]] = []
        for p in h.procedures:
            if _recorded(p.sources, "procedure"):
                pe_ = enc.get(p.encounter_id)
                self.procedures.append((p.code, _utc_day(p.performed, pe_.tz if pe_ else "America/Chicago")))
        self.claim_lines: list[tuple[str, date]] = [
            (ln.code, ln.service_date) for c in h.claims if _recorded(c.sources, "claim_line") for ln in c.lines]
        self.immunizations: list[tuple[str, date]] = [
            (i.cvx.lstrip("0"), i.date) for i in h.immunizations if _recorded(i.sources, "immunization")]

    def condition(self, prefixes: Iterable[str], lo: date, hi: date) -> bool:
        """A recorded condition in the value set overlapping [lo, hi]."""
        return any(_has(code, prefixes) and (start or date.min) <= hi and (end or date.max) >= lo
                   for code, start, end in self.conditions)

    def condition_starting(self, prefixes: Iterable[str], lo: date, hi: date) -> bool:
        return any(_has(code, prefixes) and start is not None and lo <= start <= hi
                   for code, start, _ in self.conditions)


def _visit(w: _World, ps: date, pe: date, classes: frozenset[str]) -> bool:
    for e in w.h.encounters:
        if e.enc_class in classes and _recorded(e.sources, "encounter") and \
                _utc_day(e.start, e.tz) >= ps and _utc_day(e.end, e.tz) <= pe:
            return True
    return any(code in VISIT_HCPCS and ps <= day <= pe for code, day in w.claim_lines)


def _shared_exclusion(w: _World, ps: date, pe: date, age: int) -> str | None:
    hospice = any(e.enc_class == IMP and e.discharge_disposition in ("50", "51")
                  and ps <= _utc_day(e.end, e.tz) <= pe for e in w.h.encounters)
    if hospice:
        return "hospice care in the period"
    if w.condition(PALLIATIVE, ps, pe):
        return "palliative care in the period"
    if age >= 66 and _frailty(w, ps, pe) and _advanced_illness(w, ps, pe):
        return "age 66+ with frailty and advanced illness"
    return None


def _frailty(w: _World, ps: date, pe: date) -> bool:
    return w.condition(FRAILTY, ps, pe)


def _advanced_illness(w: _World, ps: date, pe: date) -> bool:
    return w.condition_starting(ADVANCED_ILLNESS, date(ps.year - 1, ps.month, ps.day), pe)


def _cms122(w: _World, ps: date, pe: date, age: int) -> Flags | None:
    if not (18 <= age <= 75 and w.condition(DIABETES, ps, pe)):
        return None
    results = [(day, v) for loinc, _, day, v, _ in w.observations if loinc in HBA1C and ps <= day <= pe]
    if not results:
        return Flags(age, True, _shared_exclusion(w, ps, pe, age), True)
    last = max(day for day, _ in results)
    values = [float(v) for day, v in results if day == last and isinstance(v, (int, float))]
    poor = not values or min(values) > 9.0
    return Flags(age, True, _shared_exclusion(w, ps, pe, age), poor)


def _cms125(w: _World, ps: date, pe: date, age: int) -> Flags | None:
    if not (52 <= age <= 74 and w.h.person.sex == "F"):
        return None
    sides = {MASTECTOMY_HISTORY[_norm(c)] for c, start, _ in w.conditions
             if _norm(c) in MASTECTOMY_HISTORY and (start or date.min) <= pe}
    sides |= {s for code, day in w.procedures + w.claim_lines if day <= pe
              for s, pcs in (("bilateral", "0HTV0ZZ"), ("right", "0HTT0ZZ"), ("left", "0HTU0ZZ")) if code == pcs}
    reason = ("bilateral mastectomy" if "bilateral" in sides
              else "right and left unilateral mastectomy" if {"right", "left"} <= sides
              else _shared_exclusion(w, ps, pe, age))
    lo = date(ps.year - 2, 10, 1)
    screened = any(loinc in MAMMOGRAPHY and lo <= day <= pe for loinc, _, day, _, _ in w.observations) or \
        any(code in MAMMOGRAPHY and lo <= day <= pe for code, day in w.procedures + w.claim_lines)
    return Flags(age, True, reason, screened)


def _years_before(ps: date, years: int) -> date:
    return date(ps.year - years, ps.month, ps.day)


def _cms130(w: _World, ps: date, pe: date, age: int) -> Flags | None:
    if not 46 <= age <= 75:
        return None
    colectomy = any(code in ("0DTE0ZZ", "0DTE4ZZ", "0DTE7ZZ", "0DTE8ZZ") and day <= pe
                    for code, day in w.procedures + w.claim_lines)
    reason = ("colorectal cancer" if any(_has(c, COLORECTAL) and (s or date.min) <= pe for c, s, _ in w.conditions)
              else "total colectomy" if colectomy else _shared_exclusion(w, ps, pe, age))
    tests = [(code, day) for code, day in w.procedures + w.claim_lines] + \
        [(loinc, day) for loinc, _, day, _, _ in w.observations]
    screened = any(
        day <= pe and ((code in COLONOSCOPY and day >= _years_before(ps, 9))
                       or (code in SIGMOIDOSCOPY and day >= _years_before(ps, 4)))
        for code, day in tests)
    return Flags(age, True, reason, screened)


def _cms165(w: _World, ps: date, pe: date, age: int) -> Flags | None:
    half = date(ps.year + (ps.month + 5) // 12, (ps.month + 5) % 12 + 1, ps.day) - timedelta(days=1)
    if not (18 <= age <= 85 and w.condition(HYPERTENSION, ps, half)):
        return None
    reason = next((r for r, prefixes in KIDNEY_PREGNANCY if w.condition(prefixes, ps, pe)), None)
    if reason is None:
        frail = _frailty(w, ps, pe)
        shared = _shared_exclusion(w, ps, pe, age)
        if shared in ("hospice care in the period", "palliative care in the period"):
            reason = shared
        elif 66 <= age <= 80 and frail and _advanced_illness(w, ps, pe):
            reason = "age 66-80 with frailty and advanced illness"
        elif age >= 81 and frail:
            reason = "age 81+ with frailty"
    readings = [(day, loinc, float(v)) for loinc, _, day, v, cls in w.observations
                if loinc in (SYSTOLIC, DIASTOLIC) and ps <= day <= pe and cls not in (IMP, EMER)
                and isinstance(v, (int, float))]
    controlled = False
    if readings:
        last = max(day for day, _, _ in readings)
        sys_ = [v for day, loinc, v in readings if day == last and loinc == SYSTOLIC]
        dia = [v for day, loinc, v in readings if day == last and loinc == DIASTOLIC]
        controlled = bool(sys_ and dia and min(sys_) < 140 and min(dia) < 90)
    return Flags(age, True, reason, controlled)


_NEEDED = {"dtap": 4, "ipv": 3, "hib": 3, "pcv": 4, "hepb": 3, "mmr": 1, "vzv": 1, "hepa": 1}


def _cms117(w: _World, ps: date, pe: date, age: int) -> Flags | None:
    birth = w.h.person.birth_date
    second = _add_years(birth, 2)
    if not ps <= second <= pe:
        return None
    first = _add_years(birth, 1)
    days: dict[str, set[date]] = {}
    for cvx, day in w.immunizations:
        for antigen in CVX.get(cvx, ()):
            earliest = {"mmr": first, "vzv": first, "hepa": first, "hepb": birth, "flu": birth + timedelta(days=180),
                        "laiv": second}.get(antigen, birth + timedelta(days=42))
            if earliest <= day <= second:
                days.setdefault(antigen, set()).add(day)
    complete = all(len(days.get(a, ())) >= n for a, n in _NEEDED.items())
    rv2, rv = days.get("rv2", set()), days.get("rv2", set()) | days.get("rv3", set())
    complete = complete and (len(rv2) >= 2 or len(rv) >= 3)
    complete = complete and len(days.get("flu", set()) | days.get("laiv", set())) >= 2
    hospice = _shared_exclusion(w, ps, pe, age) == "hospice care in the period"
    return Flags(age, True, "hospice care in the period" if hospice else None, complete)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # Feb 29 -> Mar 1
        return date(d.year + years, 3, 1)


MEASURES = {"CMS117": _cms117, "CMS122": _cms122, "CMS125": _cms125, "CMS130": _cms130, "CMS165": _cms165}


def measure_flags(h: PersonHistory, period_start: date, period_end: date,
                  visit_classes: Iterable[str]) -> dict[str, Flags]:
    """measure id -> the person's flags, for every measure whose initial population holds them."""
    w = _World(h)
    if not _visit(w, period_start, period_end, frozenset(visit_classes)):
        return {}
    age = age_at(h.person.birth_date, period_end)
    out: dict[str, Flags] = {}
    for measure_id, rule in MEASURES.items():
        flags = rule(w, period_start, period_end, age)
        if flags is not None:
            out[measure_id] = flags
    return out
