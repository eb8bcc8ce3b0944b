"""Each check kind on a tiny hand-built DuckDB: failing and total rows counted by hand, the
sentence and the reproducing query (which must find exactly the failing rows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from medlake.quality import CheckResult, evaluate, parse_checks

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    c.execute("create schema views")
    # 5 patients: ehr p1 p2 p3 (p2 no birth date), lab p4 p5 (p4 no birth date, p5 gender `x`);
    # p3 repeats the mrn of p1; zip `1234` is malformed
    c.execute("""create table views.patient as select * from (values
        ('p1', 'ehr', DATE '1950-01-01', 'female', 'M1', '12345'),
        ('p2', 'ehr', NULL,              'male',   'M2', '23456'),
        ('p3', 'ehr', DATE '1990-05-05', 'female', 'M1', NULL),
        ('p4', 'lab', NULL,              'male',   'M4', '1234'),
        ('p5', 'lab', DATE '2001-02-03', 'x',      'M5', '34567')
    ) t(id, source, birth_date, gender, mrn, postal_code)""")
    # 4 encounters: e2 ends before it starts, e3 points at no patient
    c.execute("""create table views.encounter as select * from (values
        ('e1', 'p1', 'ehr', 1, 2), ('e2', 'p2', 'ehr', 5, 3), ('e3', 'p9', 'lab', 1, NULL), ('e4', 'p4', 'lab', 2, 2)
    ) t(id, patient_id, source, period_start, period_end)""")
    yield c
    c.close()


def run(con: duckdb.DuckDBPyConnection, **check: Any) -> list[CheckResult]:
    base = {"id": "t.check", "table": "views.patient", "category": "completeness"}
    specs = parse_checks({"checks": [{**base, **check}]}, "t.yaml")
    return evaluate(con, specs, run_id="r1", now=NOW)


def rows(con: duckdb.DuckDBPyConnection, r: CheckResult) -> list[Any]:
    return sorted(x[0] for x in con.execute(r.query).fetchall())


def test_not_null_by_source(con: duckdb.DuckDBPyConnection) -> None:
    ehr, lab = run(con, kind="not_null", column="birth_date", by="source", subject="patients")
    assert (ehr.group, ehr.failing, ehr.total, ehr.status) == ("ehr", 1, 3, "fail")
    assert ehr.sentence == "`birth_date` is missing in 33.3% of ehr patients (1 / 3)"
    assert ehr.query == "select * from views.patient where birth_date is null and source = 'ehr'"
    assert rows(con, ehr) == ["p2"]
    assert (lab.group, lab.failing, lab.total) == ("lab", 1, 2)
    assert lab.sentence == "`birth_date` is missing in 50% of lab patients (1 / 2)"
    assert (ehr.run_id, ehr.checked_at) == ("r1", NOW)


def test_threshold_tolerates_up_to_the_percentage(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="not_null", column="birth_date", threshold_pct=40)  # 2 / 5 = 40 %: not above
    assert (r.group, r.failing, r.total, r.status) == (None, 2, 5, "pass")
    (r,) = run(con, kind="not_null", column="birth_date", threshold_pct=39.9)
    assert r.status == "fail"
    assert r.sentence == "`birth_date` is missing in 40% of rows (2 / 5)"


def test_unique(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="unique", column="mrn", category="conformance", subject="patients")
    assert (r.failing, r.total, r.status) == (2, 5, "fail")  # p1 and p3 share M1
    assert r.sentence == "`mrn` is not unique in 40% of patients (2 / 5)"
    assert rows(con, r) == ["p1", "p3"]
    (r,) = run(con, kind="unique", column="id")
    assert (r.failing, r.status) == (0, "pass")


def test_accepted_values(con: duckdb.DuckDBPyConnection) -> None:
    ehr, lab = run(con, kind="accepted_values", column="gender", values=["male", "female"], by="source", subject="patients")
    assert (ehr.failing, ehr.total, ehr.status) == (0, 3, "pass")
    assert (lab.failing, lab.total, lab.status) == (1, 2, "fail")
    assert lab.sentence == "`gender` is not an accepted value in 50% of lab patients (1 / 2)"
    assert rows(con, lab) == ["p5"]


def test_between_with_dates(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="between", column="birth_date", min="1960-01-01", max="2000-12-31", category="plausibility")
    assert (r.failing, r.total) == (2, 5)  # p1 before, p5 after; nulls are not out of range
    assert r.sentence == "`birth_date` is outside 1960-01-01 … 2000-12-31 in 40% of rows (2 / 5)"
    assert rows(con, r) == ["p1", "p5"]
    (r,) = run(con, kind="between", column="birth_date", min="1900-01-01")
    assert (r.failing, r.status, r.sentence) == (0, "pass", "`birth_date` is below 1900-01-01 in 0% of rows (0 / 5)")


def test_regex(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="regex", column="postal_code", pattern="[0-9]{5}", category="conformance")
    assert (r.failing, r.total) == (1, 5)  # `1234`; the null is not checked
    assert r.sentence == "`postal_code` does not match its pattern in 20% of rows (1 / 5)"
    assert rows(con, r) == ["p4"]


def test_relationship(con: duckdb.DuckDBPyConnection) -> None:
    ehr, lab = run(con, table="views.encounter", kind="relationship", column="patient_id", to="views.patient.id",
                   by="source", category="conformance", subject="encounters")
    assert (ehr.failing, ehr.total, ehr.status) == (0, 2, "pass")
    assert (lab.failing, lab.total, lab.status) == (1, 2, "fail")
    assert lab.sentence == "`patient_id` points to no `views.patient.id` in 50% of lab encounters (1 / 2)"
    assert rows(con, lab) == ["e3"]


def test_row_count(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="row_count", min=6, subject="patients")
    assert (r.failing, r.total, r.status) == (1, 5, "fail")
    assert r.sentence == "`views.patient` has 5 patients (expected at least 6)"
    assert r.query == "select count(*) from views.patient where true"
    ehr, lab = run(con, kind="row_count", min=1, max=2, by="source", subject="patients")
    assert (ehr.status, lab.status) == ("fail", "pass")
    assert ehr.sentence == "`views.patient` has 3 ehr patients (expected between 1 and 2)"


def test_sql_with_total_and_problem(con: duckdb.DuckDBPyConnection) -> None:
    ehr, lab = run(
        con, table="views.encounter", kind="sql", by="source", category="plausibility", subject="encounters",
        sql="select * from views.encounter where period_end < period_start",
        total_sql="select * from views.encounter where period_end is not null",
        problem="the period ends before it starts",
    )
    assert (ehr.failing, ehr.total, ehr.status) == (1, 2, "fail")
    assert ehr.sentence == "the period ends before it starts in 50% of ehr encounters (1 / 2)"
    assert rows(con, ehr) == ["e2"]
    assert (lab.failing, lab.total, lab.status) == (0, 1, "pass")  # e3 has no end: not counted
    (r,) = run(con, table="views.encounter", kind="sql", sql="select * from views.encounter where id = 'e1'")
    assert (r.failing, r.total) == (1, 4)  # total defaults to the rows of `table`
    assert r.sentence == "check `t.check` finds a problem in 25% of rows (1 / 4)"


def test_where_filters_failing_and_total(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="not_null", column="birth_date", where="gender = 'male'")
    assert (r.failing, r.total) == (2, 2)
    assert r.query == "select * from views.patient where birth_date is null and (gender = 'male')"


def test_missing_relation_is_not_applicable(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, table="views.claim", kind="not_null", column="id")
    assert (r.status, r.failing, r.total) == ("not_applicable", 0, 0)
    assert r.sentence == "`views.claim` does not exist in this lake, so the check does not apply"
    (r,) = run(con, table="views.encounter", kind="relationship", column="patient_id", to="views.person.id")
    assert r.sentence == "`views.person` does not exist in this lake, so the check does not apply"


def test_no_rows_is_not_applicable(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="not_null", column="birth_date", where="false", subject="patients")
    assert (r.status, r.sentence) == ("not_applicable", "no patients in `views.patient` to check")


def test_sql_error_gives_error_and_the_rest_still_run(con: duckdb.DuckDBPyConnection) -> None:
    specs = parse_checks({"checks": [
        {"id": "a.bad_column", "table": "views.patient", "kind": "not_null", "column": "nope", "category": "completeness"},
        {"id": "b.bad_cast", "table": "views.patient", "kind": "sql", "category": "conformance",
         "sql": "select * from views.patient where cast(gender as integer) > 0"},
        {"id": "c.good", "table": "views.patient", "kind": "not_null", "column": "id", "category": "completeness"},
    ]}, "t.yaml")
    a, b, c = evaluate(con, specs, run_id="r1", now=NOW)
    assert (a.status, b.status, c.status) == ("error", "error", "pass")
    assert a.sentence.startswith("the check could not run: BinderException: Binder Error: Referenced column \"nope\" not found")
    assert b.sentence == "the check could not run: ConversionException"  # the value that failed to cast is not shown
    assert "female" not in b.sentence and "male" not in b.sentence


def test_an_unregistered_builtin_is_an_error(con: duckdb.DuckDBPyConnection) -> None:
    (r,) = run(con, kind="builtin", builtin="no_such_builtin", table="bronze")
    assert (r.status, r.sentence) == ("error", "the builtin check `no_such_builtin` is not registered")
