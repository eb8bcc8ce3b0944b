"""The demo report's measure-rate table: printed from the issue-7 marts when they exist."""

from __future__ import annotations

from io import StringIO

import duckdb
from rich.console import Console

from medlake.cli.demo import _measure_rates


def render(con: duckdb.DuckDBPyConnection) -> str:
    out = StringIO()
    _measure_rates(Console(file=out, width=160), con)
    return out.getvalue()


def test_nothing_printed_without_the_marts() -> None:
    con = duckdb.connect()
    con.execute("create schema gold")
    assert render(con) == ""


def test_rates_printed() -> None:
    con = duckdb.connect()
    con.execute("create schema gold")
    con.execute("""create table gold.quality_measure_summary as select * from (values
        ('CMS122', 'Diabetes: HbA1c poor control', date '2025-01-01', date '2025-12-31', 50, 50, 10, 5, 9, 0.2, true),
        ('CMS125', 'Breast cancer screening', date '2025-01-01', date '2025-12-31', 40, 40, 0, 0, null, null, false)
    ) t(measure_id, measure_name, period_start, period_end, initial_population, denominator,
        denominator_exclusions, numerator_x, numerator, performance_rate, inverse)""")
    con.execute("""create table gold.readmission_summary as select
        date '2025-01-01' as period_start, date '2025-12-31' as period_end, 200 as index_stays,
        24 as readmissions_30d, 0.12 as readmission_rate, 3 as planned_readmissions""")
    text = render(con)
    assert "CMS122 Diabetes: HbA1c poor control (inverse: lower is better)" in text
    assert "9 / 40" in text and "20.0%" in text
    assert "CMS125 Breast cancer screening" in text and "n/a" in text
    assert "30-day all-cause readmissions" in text and "24 / 200" in text and "12.0%" in text
