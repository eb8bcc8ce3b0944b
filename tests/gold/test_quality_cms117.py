"""CMS117v13 (Childhood Immunization Status) over a small hand-built population, measurement
period 2025-01-01..2025-12-31: one dbt build of the quality marts.

Where it came from: written by hand for this test (no real or generated person). Every child
gets a qualifying visit (HCPCS G0439) in 2025; `_complete` writes a full series at valid ages
(days after birth: DTaP 60/120/180/450, IPV 60/120/180, HiB 60/120/400, HepB 0/30/180, PCV
60/120/180/400, rotavirus 2-dose 60/120, MMR and VZV on the first birthday, HepA the day after
it, influenza 190/220), leaving out what a case replaces. Expected flags are worked out by hand
from the v13 rules (docs/gold.md, "CMS117").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import duckdb
import pytest
from gold_silver_fixture import CVX, ICD10, cc, write_silver_rows, write_views

from medlake.gold.runner import GoldResult, run_gold

pytestmark = pytest.mark.slow

PERIOD = {"quality_period_start": "2025-01-01", "quality_period_end": "2025-12-31"}
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CONFIG: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
SERIES: dict[str, tuple[str, tuple[int, ...]]] = {
    "dtap": ("20", (60, 120, 180, 450)),
    "ipv": ("10", (60, 120, 180)),
    "hib": ("49", (60, 120, 400)),
    "hepb": ("08", (0, 30, 180)),
    "pcv": ("133", (60, 120, 180, 400)),
    "rv": ("119", (60, 120)),
    "flu": ("88", (190, 220)),
}

_rows: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Patient": [], "Encounter": [], "Condition": [], "Immunization": [],
}  # fmt: skip


def _add(rtype: str, resource: dict[str, Any]) -> None:
    _rows[rtype].append(("ehr", {"resourceType": rtype, **resource}))


def child(pid: str, birth: date) -> None:
    _add("Patient", {"id": pid, "gender": "female", "birthDate": birth.isoformat()})
    _add(
        "Encounter",
        {
            "id": f"{pid}-v",
            "status": "finished",
            "class": {"code": "AMB"},
            "type": [cc((HCPCS, "G0439", "visit"))],
            "subject": {"reference": f"Patient/{pid}"},
            "period": {"start": "2025-06-02T10:00:00Z", "end": "2025-06-02T11:00:00Z"},
        },
    )


def shot(pid: str, code: str, day: date, status: str = "completed") -> None:
    _add(
        "Immunization",
        {
            "id": f"{pid}-i{len(_rows['Immunization'])}",
            "status": status,
            "vaccineCode": cc((CVX, code, code)),
            "patient": {"reference": f"Patient/{pid}"},
            "occurrenceDateTime": f"{day.isoformat()}T10:00:00Z",
        },
    )


def dx(pid: str, code: str, onset: date) -> None:
    _add(
        "Condition",
        {
            "id": f"{pid}-c{len(_rows['Condition'])}",
            "subject": {"reference": f"Patient/{pid}"},
            "code": cc((ICD10, code, code)),
            "onsetDateTime": onset.isoformat(),
        },
    )


def _complete(pid: str, birth: date, *, skip: tuple[str, ...] = ()) -> None:
    child(pid, birth)
    for name, (code, days) in SERIES.items():
        if name not in skip:
            for d in days:
                shot(pid, code, birth + timedelta(days=d))
    first = birth.replace(year=birth.year + 1)
    if "mmr" not in skip:
        shot(pid, "03", first)
    shot(pid, "21", first)
    shot(pid, "83", first + timedelta(days=1))


# turns 2 on the period's last day: in; complete series -> numerator
A = date(2023, 12, 31)
_complete("k117a", A)
# turns 2 the day after the period: not in the population
_complete("k117b", date(2024, 1, 1))
# MMR one day before the first birthday does not count; a not-done MMR neither
C = date(2023, 6, 1)
_complete("k117c", C, skip=("mmr",))
shot("k117c", "03", date(2024, 5, 31))
shot("k117c", "3", date(2024, 7, 1), status="not-done")
# four DTaP records but two on one day (DTaP and DTaP-HepB-IPV): 3 distinct days
D = date(2023, 6, 1)
_complete("k117d", D, skip=("dtap",))
for d in (60, 120, 180):
    shot("k117d", "20", D + timedelta(days=d))
shot("k117d", "110", D + timedelta(days=180))
# measles + mumps + rubella diagnoses stand in for MMR; rotavirus 1 two-dose + 2 three-dose
E = date(2023, 3, 1)
_complete("k117e", E, skip=("mmr", "rv"))
for code in ("B05.9", "B26.9", "B06.9"):
    dx("k117e", code, date(2024, 2, 1))
shot("k117e", "119", E + timedelta(days=60))
shot("k117e", "116", E + timedelta(days=120))
shot("k117e", "116", E + timedelta(days=180))
# influenza at 179 days old does not count (allowed from 180 days); no visit-less children
F = date(2023, 6, 1)
_complete("k117f", F, skip=("flu",))
shot("k117f", "88", F + timedelta(days=179))
shot("k117f", "88", F + timedelta(days=200))


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> GoldResult:
    root = tmp_path_factory.mktemp("cms117")
    write_silver_rows(root, _rows)
    write_views(root)
    return run_gold(root, select="+quality_care_gaps +quality_measure_summary", dbt_vars=PERIOD)


@pytest.fixture(scope="module")
def con(gold: GoldResult) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(config=CONFIG)
    c.execute("ATTACH ? AS g (READ_ONLY)", [str(gold.gold_path)])
    yield c
    c.close()


def test_build_and_dbt_tests_pass(gold: GoldResult) -> None:
    assert gold.tests and gold.tests_failed == 0


def test_cms117_results(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT person_id, age_at_period_end, excluded, in_numerator, evidence_date, evidence_value, "
        "exclusion_reason FROM g.gold.quality_measure_results WHERE measure_id = 'CMS117' ORDER BY 1"
    ).fetchall()
    assert rows == [
        # 2nd birthday 2025-12-31; the last dose is DTaP #4 at 450 days (k117d: PCV #4 at 400)
        ("k117a", 2, False, True, A + timedelta(days=450), None, None),
        # k117b turns 2 on 2026-01-01: out
        ("k117c", 2, False, False, C + timedelta(days=450), "mmr 0/1", None),
        ("k117d", 2, False, False, D + timedelta(days=400), "dtap 3/4", None),
        ("k117e", 2, False, True, E + timedelta(days=450), None, None),
        ("k117f", 2, False, False, F + timedelta(days=450), "influenza 1/2", None),
    ]


def test_cms117_summary_and_gaps(con: duckdb.DuckDBPyConnection) -> None:
    summary = con.execute(
        "SELECT initial_population, denominator, denominator_exclusions, numerator, performance_rate, "
        "inverse FROM g.gold.quality_measure_summary WHERE measure_id = 'CMS117'"
    ).fetchall()
    assert summary == [(5, 5, 0, 2, 0.4, False)]
    gaps = con.execute(
        "SELECT person_id, last_evidence_value FROM g.gold.quality_care_gaps "
        "WHERE measure_id = 'CMS117' ORDER BY 1"
    ).fetchall()
    assert gaps == [("k117c", "mmr 0/1"), ("k117d", "dtap 3/4"), ("k117f", "influenza 1/2")]
    closure = con.execute(
        "SELECT DISTINCT gap_closure FROM g.gold.quality_care_gaps WHERE measure_id = 'CMS117'"
    ).fetchall()
    assert closure == [
        ("childhood vaccines (DTaP/IPV/MMR/HiB/HepB/VZV/PCV/HepA/RV/influenza) due by the second "
         "birthday; period ends 2025-12-31",)
    ]  # fmt: skip
