"""A hand-built population for the quality-measure tests (CMS122, CMS125, CMS130, CMS165 v13).

Where it came from: written by hand for these tests (no real or generated person). The
measurement period is 2025-01-01..2025-12-31 (dbt vars). Every patient is its own person.
Ids say which measure a person was written for (`q125a`, …); the expected flags are worked
out by hand from the v13 rules in ../shared/specs/analytics-and-quality.md and listed in
test_quality_measures.py next to the reason for each.

Qualifying visits are encounters typed with the public HCPCS codes G0438/G0439 (under both
HCPCS system URIs), or CPT 99213 which only counts through the user value-set file
`USER_VALUE_SETS` (CPT is not shipped); q130f's visit and colonoscopy are claim service lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gold_silver_fixture import ACT, ICD10, LAB, LOINC, VITAL, cc, qty, write_silver_rows

PERIOD = {"quality_period_start": "2025-01-01", "quality_period_end": "2025-12-31"}
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
HCPCS_UMLS = "http://www.nlm.nih.gov/research/umls/hcpcs"
CPT = "http://www.ama-assn.org/go/cpt"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
USER_VALUE_SETS = "value_set,code_system,code\nqualifying_visit,cpt,99213\n"

_rows: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Patient": [], "Encounter": [], "Condition": [], "Observation": [], "Procedure": [], "Claim": [],
}  # fmt: skip


def _add(rtype: str, resource: dict[str, Any]) -> None:
    resource = {"resourceType": rtype, **resource}
    _rows[rtype].append(("ehr", resource))


def person(pid: str, gender: str, birth: str) -> None:
    _add("Patient", {"id": pid, "gender": gender, "birthDate": birth})


def visit(
    pid: str, day: str, *, code: tuple[str, str] = (HCPCS, "G0439"), end: str | None = None,
    cls: str = "AMB", eid: str | None = None,
) -> str:  # fmt: skip
    eid = eid or f"{pid}-v{len(_rows['Encounter'])}"
    _add(
        "Encounter",
        {
            "id": eid,
            "status": "finished",
            "class": {"system": ACT, "code": cls},
            "type": [cc((code[0], code[1], "visit"))],
            "subject": {"reference": f"Patient/{pid}"},
            "period": {"start": f"{day}T10:00:00Z", "end": f"{end or day}T11:00:00Z"},
        },
    )
    return eid


def dx(pid: str, code: str, onset: str, abated: str | None = None) -> None:
    extra: dict[str, Any] = {"abatementDateTime": abated} if abated else {}
    _add(
        "Condition",
        {
            "id": f"{pid}-c{len(_rows['Condition'])}",
            "subject": {"reference": f"Patient/{pid}"},
            "code": cc((ICD10, code, code)),
            "onsetDateTime": onset,
            **extra,
        },
    )


def obs(
    pid: str, system: str, code: str, day: str, value: float | None = None, *,
    category: list[dict[str, Any]] | None = LAB, hour: int = 9, status: str = "final",
) -> None:  # fmt: skip
    extra: dict[str, Any] = {"valueQuantity": qty(value, "%")} if value is not None else {}
    if category is not None:
        extra["category"] = category
    _add(
        "Observation",
        {
            "id": f"{pid}-o{len(_rows['Observation'])}",
            "status": status,
            "code": cc((system, code, code)),
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": f"{day}T{hour:02d}:00:00Z",
            **extra,
        },
    )


def bp(pid: str, day: str, systolic: float, diastolic: float, *, encounter: str | None = None,
       hour: int = 9) -> None:  # fmt: skip
    extra: dict[str, Any] = {"encounter": {"reference": f"Encounter/{encounter}"}} if encounter else {}
    _add(
        "Observation",
        {
            "id": f"{pid}-bp{len(_rows['Observation'])}",
            "status": "final",
            "category": VITAL,
            "code": cc((LOINC, "85354-9", "Blood pressure panel")),
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": f"{day}T{hour:02d}:00:00Z",
            "component": [
                {"code": cc((LOINC, "8480-6", "Systolic")), "valueQuantity": qty(systolic, "mm[Hg]")},
                {"code": cc((LOINC, "8462-4", "Diastolic")), "valueQuantity": qty(diastolic, "mm[Hg]")},
            ],
            **extra,
        },
    )


def proc(pid: str, system: str, code: str, day: str) -> None:
    _add(
        "Procedure",
        {
            "id": f"{pid}-p{len(_rows['Procedure'])}",
            "status": "completed",
            "code": cc((system, code, code)),
            "subject": {"reference": f"Patient/{pid}"},
            "performedDateTime": f"{day}T08:00:00Z",
        },
    )


# --- CMS125 breast cancer screening (female 52-74) -----------------------------------------
person("q125a", "female", "1973-12-31")  # turns 52 ON period end: in
visit("q125a", "2025-03-01")
obs("q125a", LOINC, "24606-6", "2023-10-01", category=None)  # first day of the window
person("q125b", "female", "1974-01-01")  # 51 at period end: out
visit("q125b", "2025-03-01")
person("q125c", "female", "1960-06-15")  # 65
visit("q125c", "2025-04-01", code=(HCPCS_UMLS, "G0438"))
obs("q125c", LOINC, "24606-6", "2023-09-30", category=None)  # one day before the window
person("q125d", "female", "1955-02-02")  # 70
visit("q125d", "2025-05-01")
proc("q125d", PCS, "0HTT0ZZ", "2019-04-04")  # right mastectomy
dx("q125d", "Z90.12", "2021-01-01")  # history of left mastectomy
person("q125e", "female", "1958-01-01")  # 67
visit("q125e", "2025-05-01")
proc("q125e", PCS, "0HTV0ZZ", "2026-01-15")  # bilateral mastectomy AFTER the period
person("q125f", "female", "1965-01-01")  # 60, visit not wholly in the period: out
visit("q125f", "2024-12-31", end="2025-01-01")

# --- CMS130 colorectal cancer screening (46-75) ---------------------------------------------
person("q130a", "male", "1960-03-03")  # 65
visit("q130a", "2025-02-02")
proc("q130a", HCPCS, "G0105", "2016-01-01")  # colonoscopy: period start - 9 years exactly
person("q130b", "male", "1970-01-01")  # 55
visit("q130b", "2025-02-02")
obs("q130b", LOINC, "2335-8", "2024-12-31", 1)  # FOBT the day before the period
person("q130c", "male", "1950-01-01")  # 75
visit("q130c", "2025-02-02")
obs("q130c", LOINC, "77353-1", "2023-01-01", 1)  # FIT-DNA: period start - 2 years exactly
person("q130d", "male", "1965-01-01")  # 60
visit("q130d", "2025-02-02")
dx("q130d", "C18.9", "2026-02-01")  # colorectal cancer AFTER the period
obs("q130d", LOINC, "2335-8", "2025-06-01", 1, category=None)  # FOBT not categorized laboratory
person("q130e", "male", "1965-01-01")
visit("q130e", "2025-02-02")
dx("q130e", "Z85.038", "2020-01-01")  # history of colon cancer

person("q130f", "male", "1965-01-01")  # no encounter: visit and colonoscopy only on a claim
_add(
    "Claim",
    {
        "id": "q130f-claim",
        "status": "active",
        "use": "claim",
        "patient": {"reference": "Patient/q130f"},
        "item": [
            {"sequence": 1, "productOrService": cc((HCPCS, "G0439", "AWV")), "servicedDate": "2025-04-04"},
            {"sequence": 2, "productOrService": cc((HCPCS, "G0121", "colonoscopy")), "servicedDate": "2020-05-05"},
        ],
    },
)

# --- CMS122 glycemic status > 9% (18-75, diabetes) ------------------------------------------
person("q122a", "male", "1990-01-01")  # 35
visit("q122a", "2025-01-15")
dx("q122a", "E11.9", "2020-01-01")
obs("q122a", LOINC, "4548-4", "2025-03-01", 10.0)
obs("q122a", LOINC, "4548-4", "2025-11-01", 9.5, hour=8)  # two results on the latest day:
obs("q122a", LOINC, "4548-4", "2025-11-01", 8.7, hour=15)  # the lowest (8.7) decides
person("q122b", "male", "1990-01-01")
visit("q122b", "2025-01-15", code=(CPT, "99213"))  # a visit only through the user value set
dx("q122b", "E10.9", "2010-01-01")
obs("q122b", LOINC, "4548-4", "2025-06-01", 9.0)  # exactly 9.0 is not > 9
person("q122c", "male", "1990-01-01")
visit("q122c", "2025-01-15")
dx("q122c", "E11.65", "2019-05-05")
obs("q122c", LOINC, "4548-4", "2025-05-01", 9.1)
person("q122d", "male", "1990-01-01")
visit("q122d", "2025-01-15")
dx("q122d", "E11.9", "2019-05-05")
obs("q122d", LOINC, "4548-4", "2024-12-15", 7.0)  # only before the period: no result
person("q122f", "male", "1990-01-01")
visit("q122f", "2025-01-15")
dx("q122f", "E11.9", "2019-05-05")
obs("q122f", LOINC, "4548-4", "2025-02-01", 7.0)
dx("q122f", "Z51.5", "2026-01-10")  # palliative care AFTER the period: not excluded
person("q122g", "male", "1990-01-01")
visit("q122g", "2025-01-15")
dx("q122g", "E11.9", "2019-05-05")
dx("q122g", "Z51.5", "2025-08-01")  # palliative care in the period
person("q122h", "male", "1990-01-01")
visit("q122h", "2025-01-15")
dx("q122h", "E11.9", "2019-05-05", abated="2024-06-01")  # diabetes over before the period

# --- CMS165 controlling high blood pressure (18-85, essential hypertension) ------------------
person("q165a", "male", "1985-07-01")  # 40
visit("q165a", "2025-01-20")
dx("q165a", "I10", "2018-01-01")
bp("q165a", "2025-02-01", 160, 100)
bp("q165a", "2025-10-10", 150, 85, hour=8)  # latest day, two readings: lowest systolic 135
bp("q165a", "2025-10-10", 135, 95, hour=16)  # and lowest diastolic 85 from different ones
person("q165b", "male", "1985-07-01")
visit("q165b", "2025-01-20")
dx("q165b", "I10", "2025-07-01")  # starts after the first six months: out
person("q165c", "male", "1985-07-01")
visit("q165c", "2025-01-20")
dx("q165c", "I10", "2025-06-30")  # last day of the first six months: in
bp("q165c", "2025-09-01", 130, 80)
ed = visit("q165c", "2025-12-20", cls="EMER", code=(HCPCS, "G0380"))
bp("q165c", "2025-12-20", 170, 100, encounter=ed)  # ED reading does not count
person("q165d", "male", "1985-07-01")
visit("q165d", "2025-01-20")
dx("q165d", "I10", "2018-01-01")
bp("q165d", "2025-05-05", 140, 80)  # 140 is not < 140
person("q165e", "male", "1985-07-01")
visit("q165e", "2025-01-20")
dx("q165e", "I10", "2018-01-01")  # no reading at all
person("q165f", "male", "1943-03-03")  # 82
visit("q165f", "2025-01-20")
dx("q165f", "I10", "2018-01-01")
dx("q165f", "R54", "2025-03-01")  # frailty symptom as a CONDITION: does not count
bp("q165f", "2025-04-04", 120, 70)
person("q165g", "male", "1943-03-03")  # 82
visit("q165g", "2025-01-20")
dx("q165g", "I10", "2018-01-01")
obs("q165g", ICD10, "R54", "2025-03-01", category=None)  # frailty symptom observation
person("q165h", "male", "1955-05-05")  # 70
visit("q165h", "2025-01-20")
dx("q165h", "I10", "2018-01-01")
dx("q165h", "Z74.09", "2025-02-01")  # frailty diagnosis
dx("q165h", "I50.9", "2024-03-01")  # advanced illness starting the year before
person("q165i", "male", "1955-05-05")  # 70
visit("q165i", "2025-01-20")
dx("q165i", "I10", "2018-01-01")
dx("q165i", "Z74.09", "2025-02-01")
dx("q165i", "I50.9", "2023-06-01")  # advanced illness starting too early
bp("q165i", "2025-06-06", 120, 70)
person("q165j", "male", "1985-07-01")
visit("q165j", "2025-01-20")
dx("q165j", "I10", "2018-01-01")
dx("q165j", "N18.6", "2026-03-01")  # ESRD AFTER the period
person("q165k", "male", "1985-07-01")
visit("q165k", "2025-01-20")
dx("q165k", "I10", "2018-01-01")
dx("q165k", "N18.6", "2022-01-01")  # ESRD


def write_population(tenant_root: Path) -> Path:
    """Silver Delta tables under `<tenant_root>/silver/fhir/` and the user value-set folder;
    returns that folder."""
    write_silver_rows(tenant_root, _rows)
    folder = tenant_root / "value_sets"
    folder.mkdir(exist_ok=True)
    (folder / "visits.csv").write_text(USER_VALUE_SETS, encoding="utf-8")
    return folder
