"""CMS122, CMS125, CMS130 and CMS165 (v13) over the hand-built population of
quality_population.py, measurement period 2025-01-01..2025-12-31: one dbt build of the quality
marts per module. Every expected flag below is worked out by hand from the v13 rules
(../shared/specs/analytics-and-quality.md); the comment says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from gold_silver_fixture import write_views
from quality_population import PERIOD, write_population

from medlake.gold.runner import GoldBuildError, GoldResult, run_gold

pytestmark = pytest.mark.slow

QUALITY_MARTS = "+quality_care_gaps +quality_measure_summary +quality_measure_summary_by_provider"
CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@pytest.fixture(scope="module")
def quality_gold(tmp_path_factory: pytest.TempPathFactory) -> GoldResult:
    root = tmp_path_factory.mktemp("quality")
    value_sets = write_population(root)
    write_views(root)
    return run_gold(root, select=QUALITY_MARTS, dbt_vars=PERIOD, value_sets_dir=value_sets)


@pytest.fixture(scope="module")
def qcon(quality_gold: GoldResult) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(config=CONFIG)
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(quality_gold.gold_path)])
    yield con
    con.close()


def results(con: duckdb.DuckDBPyConnection, measure: str) -> dict[str, tuple[Any, ...]]:
    """person -> (excluded, in_numerator, evidence_date, evidence_value, evidence_code, reason)."""
    rows = con.execute(
        "SELECT person_id, excluded, in_numerator, evidence_date, evidence_value, evidence_code, "
        "exclusion_reason FROM g.gold.quality_measure_results WHERE measure_id = ?",
        [measure],
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_build_and_dbt_tests_pass(quality_gold: GoldResult) -> None:
    assert quality_gold.row_counts == {
        "quality_care_gaps": 43, "quality_measure_results": 61, "quality_measure_summary": 6,
        "quality_measure_summary_by_provider": 5,
    }  # fmt: skip
    assert quality_gold.tests and quality_gold.tests_failed == 0
    assert quality_gold.tests_passed == len(quality_gold.tests)


def test_cms125_breast_cancer_screening(qcon: duckdb.DuckDBPyConnection) -> None:
    assert results(qcon, "CMS125") == {
        # turns 52 on 2025-12-31 (birthday on the period end counts); mammogram on
        # 2023-10-01, the first day of the window
        "q125a": (False, True, date(2023, 10, 1), None, "24606-6", None),
        # q125b is 51 at period end and q125f's visit starts 2024-12-31: not in the population
        # mammogram on 2023-09-30, one day before the window; visit under the UMLS HCPCS URI
        "q125c": (False, False, None, None, None, None),
        # right mastectomy procedure + history of left mastectomy diagnosis
        "q125d": (True, False, None, None, None, "right and left unilateral mastectomy"),
        # bilateral mastectomy on 2026-01-15, after the period: not excluded
        "q125e": (False, False, None, None, None, None),
    }


def test_cms130_colorectal_cancer_screening(qcon: duckdb.DuckDBPyConnection) -> None:
    got = results(qcon, "CMS130")
    assert {p: v for p, v in got.items() if p.startswith("q130")} == {
        # colonoscopy 2016-01-01 = period start - 9 years
        "q130a": (False, True, date(2016, 1, 1), "colonoscopy", "G0105", None),
        # FOBT on 2024-12-31 does not count (FOBT only in the period)
        "q130b": (False, False, None, None, None, None),
        # age 75 (upper bound); FIT-DNA 2023-01-01 = period start - 2 years
        "q130c": (False, True, date(2023, 1, 1), "fit_dna", "77353-1", None),
        # colorectal cancer diagnosed after the period; FOBT without category laboratory
        "q130d": (False, False, None, None, None, None),
        "q130e": (True, False, None, None, None, "colorectal cancer"),  # Z85.038 history
        # AWV (G0439) and colonoscopy (G0121) only as claim service lines
        "q130f": (False, True, date(2020, 5, 5), "colonoscopy", "G0121", None),
    }
    # the CMS125 and CMS165 people aged 46-75 with a visit are in CMS130 too; q165h (70) has
    # frailty and an advanced illness: the shared 66+ exclusion
    others = {p: (v[0], v[1], v[5]) for p, v in got.items() if not p.startswith("q130")}
    assert others == {
        "q125a": (False, False, None), "q125b": (False, False, None), "q125c": (False, False, None),
        "q125d": (False, False, None), "q125e": (False, False, None), "q165i": (False, False, None),
        "q165h": (True, False, "age 66+ with frailty and advanced illness"),
    }  # fmt: skip


def test_cms122_glycemic_status_inverse(qcon: duckdb.DuckDBPyConnection) -> None:
    assert results(qcon, "CMS122") == {
        # two results on the latest day (9.5, 8.7): the lowest decides, not > 9
        "q122a": (False, False, date(2025, 11, 1), "8.7", "4548-4", None),
        # exactly 9.0 is not > 9; the visit is CPT 99213 from the user value-set file
        "q122b": (False, False, date(2025, 6, 1), "9", "4548-4", None),
        "q122c": (False, True, date(2025, 5, 1), "9.1", "4548-4", None),
        # no result in the period (only 2024-12-15): numerator
        "q122d": (False, True, None, None, None, None),
        # palliative care starting 2026-01-10, after the period: not excluded
        "q122f": (False, False, date(2025, 2, 1), "7", "4548-4", None),
        # palliative care (Z51.5) in the period; numerator not counted once excluded
        "q122g": (True, False, None, None, None, "palliative care in the period"),
        # q122h's diabetes abated 2024-06-01: not in the population
    }


def test_cms165_controlling_blood_pressure(qcon: duckdb.DuckDBPyConnection) -> None:
    bp = "8480-6/8462-4"
    assert results(qcon, "CMS165") == {
        # 2025-10-10 readings 150/85 and 135/95: lowest systolic 135 and diastolic 85
        "q165a": (False, True, date(2025, 10, 10), "135/85", bp, None),
        # q165b's hypertension starts 2025-07-01: not in the first six months, not in
        # hypertension from 2025-06-30 (in); the 2025-12-20 ED reading does not count
        "q165c": (False, True, date(2025, 9, 1), "130/80", bp, None),
        "q165d": (False, False, date(2025, 5, 5), "140/80", bp, None),  # 140 is not < 140
        "q165e": (False, False, None, None, None, None),  # no reading
        # age 82, R54 recorded as a Condition is not frailty (symptoms count as observations)
        "q165f": (False, True, date(2025, 4, 4), "120/70", bp, None),
        "q165g": (True, False, None, None, None, "age 81+ with frailty"),  # R54 observation
        "q165h": (True, False, None, None, None, "age 66-80 with frailty and advanced illness"),
        # advanced illness starting 2023-06-01: before the period's year-before window
        "q165i": (False, True, date(2025, 6, 6), "120/70", bp, None),
        "q165j": (False, False, None, None, None, None),  # ESRD after the period
        "q165k": (True, False, None, None, None, "end-stage renal disease"),
    }


def test_summary_contract(qcon: duckdb.DuckDBPyConnection) -> None:
    rows = qcon.execute(
        "SELECT measure_id, period_start, period_end, initial_population, denominator, "
        "denominator_exclusions, numerator, round(performance_rate, 4), inverse "
        "FROM g.gold.quality_measure_summary ORDER BY measure_id"
    ).fetchall()
    p = (date(2025, 1, 1), date(2025, 12, 31))
    assert rows == [
        ("CMS117", *p, 0, 0, 0, 0, None, False),  # no child turns 2 here: test_quality_cms117.py
        ("CMS122", *p, 6, 6, 1, 2, 0.4, True),  # 2 of (6 - 1)
        ("CMS125", *p, 4, 4, 1, 1, 0.3333, False),
        ("CMS130", *p, 13, 13, 2, 3, 0.2727, False),  # 3 of (13 - 2)
        ("CMS165", *p, 10, 10, 3, 4, 0.5714, False),
        # every G0438/G0439 visitor aged 12+ on 2025-01-01 (5 + 6 + 6 + 11 written for the other
        # measures; q122b's CPT visit and q125f's straddling one do not count), none screened
        ("CMS2", *p, 28, 28, 0, 0, 0.0, False),
    ]


def test_care_gaps(qcon: duckdb.DuckDBPyConnection) -> None:
    rows = qcon.execute(
        "SELECT measure_id, person_id, gap_closure FROM g.gold.quality_care_gaps "
        "WHERE measure_id NOT IN ('CMS130', 'CMS2') ORDER BY 1, 2"
    ).fetchall()
    assert rows == [
        # inverse measure: the gap is being IN the numerator
        ("CMS122", "q122c", "HbA1c or GMI result of 9.0% or less by 2025-12-31"),
        ("CMS122", "q122d", "HbA1c or GMI result of 9.0% or less by 2025-12-31"),
        ("CMS125", "q125c", "mammogram by 2025-12-31"),
        ("CMS125", "q125e", "mammogram by 2025-12-31"),
        ("CMS165", "q165d", "blood pressure reading below 140/90 by 2025-12-31"),
        ("CMS165", "q165e", "blood pressure reading below 140/90 by 2025-12-31"),
        ("CMS165", "q165j", "blood pressure reading below 140/90 by 2025-12-31"),
    ]
    cms130 = qcon.execute(
        "SELECT list(person_id ORDER BY person_id) FROM g.gold.quality_care_gaps WHERE measure_id = 'CMS130'"
    ).fetchone()
    assert cms130 == (["q125a", "q125b", "q125c", "q125d", "q125e", "q130b", "q130d", "q165i"],)


def test_user_value_sets_table(qcon: duckdb.DuckDBPyConnection, quality_gold: GoldResult) -> None:
    rows = qcon.execute("SELECT * FROM g.gold_inputs.quality_user_value_sets").fetchall()
    assert rows == [("qualifying_visit", "http://www.ama-assn.org/go/cpt", "99213", "visits.csv")]
    assert Path(quality_gold.gold_path).name == "gold.duckdb"


def test_default_period_is_the_as_of_year(tmp_path: Path) -> None:
    # the latest event not in the future is q165j's ESRD onset, 2026-03-01
    write_population(tmp_path)
    write_views(tmp_path)
    result = run_gold(tmp_path, select="+int__quality_period")
    con = duckdb.connect(config=CONFIG)
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(result.gold_path)])
    assert con.execute("SELECT * FROM g.gold_staging.int__quality_period").fetchall() == [
        (date(2026, 1, 1), date(2026, 12, 31))
    ]
    con.close()
    with pytest.raises(GoldBuildError) as err:
        run_gold(tmp_path, select="+int__quality_period", dbt_vars={"quality_period_start": "2025-01-01"})
    assert err.value.context["failed_nodes"] == []
    log = (tmp_path / "gold" / "_dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "set both vars `quality_period_start` and `quality_period_end`" in log


def test_visit_classes_approximation(qcon: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # strict by default: q165c's ED encounter (G0380, not a qualifying code) is no visit
    assert qcon.execute(
        "SELECT visit_count FROM g.gold_staging.int__quality_visits WHERE person_id = 'q165c'"
    ).fetchall() == [(1,)]
    write_population(tmp_path)
    write_views(tmp_path)
    result = run_gold(
        tmp_path, select="+int__quality_visits", dbt_vars={**PERIOD, "quality_visit_classes": ["EMER"]}
    )
    con = duckdb.connect(config=CONFIG)
    con.execute("ATTACH ? AS g (READ_ONLY)", [str(result.gold_path)])
    assert con.execute(
        "SELECT visit_count FROM g.gold_staging.int__quality_visits WHERE person_id = 'q165c'"
    ).fetchall() == [(2,)]
    con.close()
