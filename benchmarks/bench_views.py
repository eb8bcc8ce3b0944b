"""ViewDefinition throughput: N Observations flattened into an observation view by both engines.

Observations are built inside DuckDB (one JSON document per row, shaped like the synthetic
generator's FHIR: a LOINC coding array, a category array, subject/encounter references,
effectiveDateTime, and valueQuantity or — every fifth — valueCodeableConcept). The compiled
SQL runs over the whole table (`--sql-n`, default 1,000,000); the Python evaluator gets a
smaller sample (`--python-n`, default 20,000); the floor is the same 11 fields read with one plain
multi-path `json_extract_string`. Prints rows/s for each and the ratios. Usage:

    python benchmarks/bench_views.py [--sql-n 1000000] [--python-n 20000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

OBSERVATION_VIEW: dict[str, Any] = {
    "resource": "Observation",
    "name": "observation",
    "select": [
        {"column": [
            {"name": "id", "path": "getResourceKey()", "type": "id"},
            {"name": "status", "path": "status", "type": "code"},
            {"name": "patient_id", "path": "subject.getReferenceKey(Patient)", "type": "id"},
            {"name": "encounter_id", "path": "encounter.getReferenceKey(Encounter)", "type": "id"},
            {"name": "category", "path": "category.coding.code.first()", "type": "code"},
            {"name": "code", "path": "code.coding.where(system = 'http://loinc.org').code.first()", "type": "code"},
            {"name": "display", "path": "code.coding.display.first()", "type": "string"},
            {"name": "effective", "path": "effective.ofType(dateTime)", "type": "dateTime"},
            {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
            {"name": "unit", "path": "value.ofType(Quantity).unit", "type": "string"},
            {"name": "value_code", "path": "value.ofType(CodeableConcept).coding.code.first()", "type": "code"},
        ]}
    ],
}  # fmt: skip

_DOCUMENT = """
json_object(
  'resourceType', 'Observation', 'id', 'obs-' || i, 'status', 'final',
  'category', [json_object('coding', [json_object('system', 'http://terminology.hl7.org/CodeSystem/observation-category',
                                                  'code', CASE WHEN i % 5 = 0 THEN 'laboratory' ELSE 'vital-signs' END)])],
  'code', json_object('coding', [json_object('system', 'http://loinc.org', 'code', (8000 + i % 97)::VARCHAR || '-' || (i % 10)::VARCHAR,
                                             'display', 'Measurement ' || (i % 97)::VARCHAR)], 'text', 'Measurement'),
  'subject', json_object('reference', 'Patient/p' || (i % 100000)::VARCHAR),
  'encounter', json_object('reference', 'Encounter/e' || (i % 400000)::VARCHAR),
  'effectiveDateTime', strftime(TIMESTAMP '2020-01-01' + to_seconds(i * 37), '%Y-%m-%dT%H:%M:%SZ'),
  'value' || CASE WHEN i % 5 = 0 THEN 'CodeableConcept' ELSE 'Quantity' END,
  CASE WHEN i % 5 = 0 THEN json_object('coding', [json_object('system', 'http://snomed.info/sct', 'code', '260385009')])
       ELSE json_object('value', round(50 + (i % 1000) / 10.0, 1), 'unit', 'mmHg', 'system', 'http://unitsofmeasure.org') END
)"""


def build(con: Any, n: int) -> float:
    t0 = time.perf_counter()
    con.execute(
        f"CREATE OR REPLACE TABLE observation AS SELECT CAST({_DOCUMENT} AS JSON) AS resource FROM range({n}) t(i)"
    )
    return time.perf_counter() - t0


def time_sql(con: Any) -> tuple[float, int]:
    from medlake.silver.views.engine.compile_sql import compile_view

    t0 = time.perf_counter()
    table = con.sql(compile_view(OBSERVATION_VIEW, source="observation")).to_arrow_table()
    return time.perf_counter() - t0, table.num_rows


FLOOR_PATHS = ["$.id", "$.status", "$.subject.reference", "$.encounter.reference", "$.category[0].coding[0].code",
               "$.code.coding[0].code", "$.code.coding[0].display", "$.effectiveDateTime", "$.valueQuantity.value",
               "$.valueQuantity.unit", "$.valueCodeableConcept.coding[0].code"]  # fmt: skip
"""The same 11 fields as plain JSON paths: what one multi-path extraction costs, with no FHIRPath meaning."""


def time_floor(con: Any) -> tuple[float, int]:
    paths = ", ".join(f"'{p}'" for p in FLOOR_PATHS)
    t0 = time.perf_counter()
    table = con.sql(f"SELECT json_extract_string(resource, [{paths}]) AS v FROM observation").to_arrow_table()
    return time.perf_counter() - t0, table.num_rows


def time_python(con: Any, n: int) -> tuple[float, int]:
    from medlake.silver.views.engine.evaluate import run_view

    docs = [
        json.loads(r[0])
        for r in con.execute(f"SELECT resource FROM observation LIMIT {n}").fetchall()
    ]
    t0 = time.perf_counter()
    rows = run_view(OBSERVATION_VIEW, docs)
    return time.perf_counter() - t0, len(rows)


def main() -> None:
    from medlake.lake.catalog import duckdb_connect

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql-n", type=int, default=1_000_000)
    parser.add_argument("--python-n", type=int, default=20_000)
    args = parser.parse_args()
    con = duckdb_connect()
    built = build(con, args.sql_n)
    print(f"built {args.sql_n:,} Observations in {built:.1f} s")
    py_s, py_rows = time_python(con, min(args.python_n, args.sql_n))
    py_rate = py_rows / py_s
    print(f"python evaluator: {py_rows:,} rows in {py_s:.2f} s = {py_rate:,.0f} rows/s")
    floor_s, _ = time_floor(con)
    sql_s, sql_rows = time_sql(con)
    sql_rate = sql_rows / sql_s
    print(f"compiled SQL:     {sql_rows:,} rows in {sql_s:.2f} s = {sql_rate:,.0f} rows/s")
    print(f"plain extraction: {args.sql_n:,} rows in {floor_s:.2f} s (the same 11 fields, one json_extract_string)")
    goal = "met" if args.sql_n >= 1_000_000 and sql_s < 10 else "see N"
    print(f"ratio SQL/python: {sql_rate / py_rate:.1f}x; SQL/plain extraction: {sql_s / floor_s:.1f}x the time; "
          f"1M goal < 10 s: {goal}")  # fmt: skip


if __name__ == "__main__":
    main()
