"""CMS2v13 (Screening for Depression and Follow-Up Plan) over a small hand-built population,
measurement period 2025-01-01..2025-12-31, plus the by-location and by-payer summaries: one dbt
build of the quality marts.

Where it came from: written by hand for this test (no real or generated person). Every person
is its own person; a qualifying visit is an encounter typed HCPCS G0444 (annual depression
screening) at organization `org-a` unless said otherwise. Screens are PHQ-9 (LOINC 44261-6,
positive at >= 10), PHQ-2 (55758-7, adults, positive at >= 3). The follow-up plan is a local
procedure code listed in the user value-set file as `depression_follow_up` (no SNOMED or CPT
shipped). Expected flags are worked out by hand from the v13 rules (docs/gold.md, "CMS2").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pytest
from gold_silver_fixture import ICD10, LOINC, cc, qty, write_silver_rows, write_views

from medlake.gold.runner import GoldResult, run_gold

pytestmark = pytest.mark.slow

PERIOD = {"quality_period_start": "2025-01-01", "quality_period_end": "2025-12-31"}
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
LOCAL = "urn:example:local-procedures"
USER_VALUE_SETS = f"value_set,code_system,code\ndepression_follow_up,{LOCAL},DEP-FU\n"
CONFIG: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
MARTS = (
    "+quality_care_gaps +quality_measure_summary +quality_measure_summary_by_provider "
    "+quality_measure_summary_by_location +quality_measure_summary_by_payer"
)

_rows: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Patient": [], "Encounter": [], "Condition": [], "Observation": [], "Procedure": [],
    "Coverage": [], "Organization": [], "Claim": [],
}  # fmt: skip


def _add(rtype: str, resource: dict[str, Any]) -> None:
    _rows[rtype].append(("ehr", {"resourceType": rtype, **resource}))


def person(pid: str, birth: str) -> None:
    _add("Patient", {"id": pid, "gender": "female", "birthDate": birth})


def visit(pid: str, day: str, *, org: str | None = "org-a") -> None:
    extra: dict[str, Any] = {"serviceProvider": {"reference": f"Organization/{org}"}} if org else {}
    _add(
        "Encounter",
        {
            "id": f"{pid}-v{len(_rows['Encounter'])}",
            "status": "finished",
            "class": {"code": "AMB"},
            "type": [cc((HCPCS, "G0444", "depression screening"))],
            "subject": {"reference": f"Patient/{pid}"},
            "period": {"start": f"{day}T10:00:00Z", "end": f"{day}T11:00:00Z"},
            **extra,
        },
    )


def screen(pid: str, code: str, day: str, score: float) -> None:
    _add(
        "Observation",
        {
            "id": f"{pid}-o{len(_rows['Observation'])}",
            "status": "final",
            "code": cc((LOINC, code, code)),
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": f"{day}T09:00:00Z",
            "valueQuantity": qty(score, "{score}"),
        },
    )


def follow_up(pid: str, day: str) -> None:
    _add(
        "Procedure",
        {
            "id": f"{pid}-p{len(_rows['Procedure'])}",
            "status": "completed",
            "code": cc((LOCAL, "DEP-FU", "depression follow-up plan")),
            "subject": {"reference": f"Patient/{pid}"},
            "performedDateTime": f"{day}T08:00:00Z",
        },
    )


def dx(pid: str, code: str, onset: str) -> None:
    _add(
        "Condition",
        {
            "id": f"{pid}-c{len(_rows['Condition'])}",
            "subject": {"reference": f"Patient/{pid}"},
            "code": cc((ICD10, code, code)),
            "onsetDateTime": onset,
        },
    )


def coverage(pid: str, payer: str, start: str, end: str | None = None) -> None:
    period = {"start": start, **({"end": end} if end else {})}
    _add(
        "Coverage",
        {
            "id": f"{pid}-cov{len(_rows['Coverage'])}",
            "status": "active",
            "beneficiary": {"reference": f"Patient/{pid}"},
            "payor": [{"reference": f"Organization/{payer}", "display": payer.upper()}],
            "period": period,
        },
    )


_add("Organization", {"id": "org-a", "name": "Clinic A"})
_add("Organization", {"id": "org-b", "name": "Clinic B"})

person("d2a", "2013-01-01")  # 12 ON the period start: in
visit("d2a", "2025-03-10")
screen("d2a", "44261-6", "2025-03-10", 4)  # PHQ-9 4: negative
coverage("d2a", "pay1", "2024-01-01")
person("d2b", "2013-01-02")  # turns 12 the day after the period start: out
visit("d2b", "2025-03-10")
screen("d2b", "44261-6", "2025-03-10", 4)
person("d2c", "1980-05-05")
visit("d2c", "2025-05-20")
screen("d2c", "44261-6", "2025-05-05", 3)  # 15 days before the visit: not counted
coverage("d2c", "pay1", "2025-06-01")  # starts after the visit: payer unknown
person("d2d", "1980-05-05")
visit("d2d", "2025-05-20")
screen("d2d", "44261-6", "2025-05-06", 3)  # 14 days before the visit: counted
coverage("d2d", "pay2", "2025-01-01", "2025-12-31")
person("d2e", "1980-05-05")
visit("d2e", "2025-06-10", org="org-b")
screen("d2e", "44261-6", "2025-06-10", 15)  # positive, no follow-up
person("d2f", "1980-05-05")
visit("d2f", "2025-06-10", org="org-b")
screen("d2f", "55758-7", "2025-06-09", 4)  # PHQ-2 4: positive
follow_up("d2f", "2025-06-12")  # 2 days after the visit: numerator
person("d2g", "1980-05-05")
visit("d2g", "2025-06-10", org=None)
screen("d2g", "44261-6", "2025-06-10", 12)
follow_up("d2g", "2025-06-13")  # 3 days after the visit: too late
person("d2h", "1980-05-05")
visit("d2h", "2025-04-01")
dx("d2h", "F31.81", "2020-02-02")  # bipolar II before the visit: excluded
screen("d2h", "44261-6", "2025-04-01", 2)
person("d2i", "1980-05-05")
visit("d2i", "2025-04-01")
dx("d2i", "F32.A", "2019-09-09")  # depression history: not an exclusion in v13
screen("d2i", "44261-6", "2025-04-01", 2)
person("d2j", "2009-06-01")  # 15 at period start
visit("d2j", "2025-04-01")
screen("d2j", "55758-7", "2025-04-01", 1)  # PHQ-2 is an adult tool: not age-appropriate
person("d2k", "1970-01-01")  # a claim only: G0444 visit and G8510 (negative screen) that day
_add(
    "Claim",
    {
        "id": "d2k-claim",
        "status": "active",
        "use": "claim",
        "patient": {"reference": "Patient/d2k"},
        "item": [
            {
                "sequence": 1,
                "productOrService": cc((HCPCS, "G0444", "screen")),
                "servicedDate": "2025-08-08",
            },
            {
                "sequence": 2,
                "productOrService": cc((HCPCS, "G8510", "negative")),
                "servicedDate": "2025-08-08",
            },
        ],
    },
)


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> GoldResult:
    root = tmp_path_factory.mktemp("cms2")
    write_silver_rows(root, _rows)
    folder = root / "value_sets"
    folder.mkdir()
    (folder / "depression.csv").write_text(USER_VALUE_SETS, encoding="utf-8")
    write_views(root)
    return run_gold(root, select=MARTS, dbt_vars=PERIOD, value_sets_dir=folder)


@pytest.fixture(scope="module")
def con(gold: GoldResult) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(config=CONFIG)
    c.execute("ATTACH ? AS g (READ_ONLY)", [str(gold.gold_path)])
    yield c
    c.close()


def test_build_and_dbt_tests_pass(gold: GoldResult) -> None:
    assert gold.tests and gold.tests_failed == 0


def test_cms2_results(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT person_id, excluded, in_numerator, evidence_date, evidence_value, evidence_code, "
        "exclusion_reason FROM g.gold.quality_measure_results WHERE measure_id = 'CMS2' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("d2a", False, True, date(2025, 3, 10), "PHQ-9 4 negative", "44261-6", None),
        # d2b is 11 on 2025-01-01: not in the population
        ("d2c", False, False, None, None, None, None),
        ("d2d", False, True, date(2025, 5, 6), "PHQ-9 3 negative", "44261-6", None),
        ("d2e", False, False, date(2025, 6, 10), "PHQ-9 15 positive, no follow-up", "44261-6", None),
        ("d2f", False, True, date(2025, 6, 9), "PHQ-2 4 positive, follow-up 2025-06-12", "55758-7", None),
        ("d2g", False, False, date(2025, 6, 10), "PHQ-9 12 positive, no follow-up", "44261-6", None),
        ("d2h", True, False, date(2025, 4, 1), "PHQ-9 2 negative", "44261-6",
         "bipolar disorder diagnosed before the qualifying visit"),
        ("d2i", False, True, date(2025, 4, 1), "PHQ-9 2 negative", "44261-6", None),
        ("d2j", False, False, None, None, None, None),
        ("d2k", False, True, date(2025, 8, 8), "G8510", "G8510", None),
    ]  # fmt: skip


def test_cms2_summary_and_gaps(con: duckdb.DuckDBPyConnection) -> None:
    summary = con.execute(
        "SELECT initial_population, denominator, denominator_exclusions, numerator, performance_rate, "
        "inverse FROM g.gold.quality_measure_summary WHERE measure_id = 'CMS2'"
    ).fetchall()
    assert summary == [(10, 10, 1, 5, 5 / 9, False)]
    gaps = con.execute(
        "SELECT person_id, organization_id, last_visit_date FROM g.gold.quality_care_gaps "
        "WHERE measure_id = 'CMS2' ORDER BY 1"
    ).fetchall()
    assert gaps == [
        ("d2c", "org-a", date(2025, 5, 20)),
        ("d2e", "org-b", date(2025, 6, 10)),
        ("d2g", None, date(2025, 6, 10)),
        ("d2j", "org-a", date(2025, 4, 1)),
    ]


def test_summary_by_location_and_payer(con: duckdb.DuckDBPyConnection) -> None:
    by_location = con.execute(
        "SELECT location_id, location_name, denominator, denominator_exclusions, numerator, performance_rate "
        "FROM g.gold.quality_measure_summary_by_location WHERE measure_id = 'CMS2' ORDER BY 1"
    ).fetchall()
    assert by_location == [
        ("org-a", "Clinic A", 6, 1, 3, 0.6),  # d2a d2c d2d d2h(excluded) d2i d2j
        ("org-b", "Clinic B", 2, 0, 1, 0.5),  # d2e d2f
        ("unknown", None, 2, 0, 1, 0.5),  # d2g (no service provider), d2k (claim only)
    ]
    by_payer = con.execute(
        "SELECT payer_id, payer_name, denominator, numerator FROM g.gold.quality_measure_summary_by_payer "
        "WHERE measure_id = 'CMS2' ORDER BY 1"
    ).fetchall()
    # d2a pay1 from 2024; d2d pay2 over 2025; d2c's coverage starts after its visit
    assert by_payer == [("pay1", "PAY1", 1, 1), ("pay2", "PAY2", 1, 1), ("unknown", None, 8, 3)]


@pytest.mark.parametrize(
    "table", ["quality_measure_summary_by_location", "quality_measure_summary_by_payer"]
)
def test_breakdowns_sum_to_the_overall_summary(con: duckdb.DuckDBPyConnection, table: str) -> None:
    mismatches = con.execute(
        f"""
        SELECT s.measure_id
        FROM g.gold.quality_measure_summary AS s
        LEFT JOIN (
            SELECT measure_id, sum(denominator) AS d, sum(denominator_exclusions) AS x, sum(numerator) AS n
            FROM g.gold.{table} GROUP BY measure_id
        ) AS b ON s.measure_id = b.measure_id
        WHERE s.denominator <> coalesce(b.d, 0) OR s.denominator_exclusions <> coalesce(b.x, 0)
            OR s.numerator <> coalesce(b.n, 0)
        """
    ).fetchall()
    assert mismatches == []
    assert con.execute(f"SELECT count(*) FROM g.gold.{table}").fetchone() == (
        3,
    )  # CMS2's buckets only
