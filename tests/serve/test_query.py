"""Search parameter parsing: values → SQL values, and the exact 400 text for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from medlake.serve.outcome import ApiError
from medlake.serve.params import params_for
from medlake.serve.query import build, date_range, folded_columns, reference_id


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("2023", datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
        ("2023-12", datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-02", datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-02-29T10:00:00Z", datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2024, 2, 29, 10, 0, 1, tzinfo=UTC)),
        ("2024-02-29T10:00:00-05:00", datetime(2024, 2, 29, 15, tzinfo=UTC), datetime(2024, 2, 29, 15, 0, 1, tzinfo=UTC)),
    ],
)
def test_date_range_covers_the_precision(text: str, lo: datetime, hi: datetime) -> None:
    assert date_range("date", text) == (lo, hi)


@pytest.mark.parametrize(
    ("rtype", "items", "message"),
    [
        ("Patient", [("foo", "1")], "search parameter `foo`: not supported on Patient; supported: _id, _lastUpdated, birthdate, family, gender, given, identifier, name, plus _count, _cursor, _include, _revinclude, _format, _total"),
        ("Patient", [("name", "")], "search parameter `name`: has no value; give one, e.g. `?name=…`"),
        ("Patient", [("gender:exact", "female")], "search parameter `gender:exact`: this modifier is not supported; use the parameter without it"),
        ("Patient", [("birthdate", "1957-13-01")], "search parameter `birthdate`: is not a real calendar date or time"),
        ("Patient", [("birthdate", "01/27/1957")], "search parameter `birthdate`: is not a FHIR date: write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[Z|±hh:mm]"),
        ("Observation", [("date", "sa2020")], "search parameter `date`: prefix `sa` is not supported; use one of eq, ne, gt, lt, ge, le"),
        ("Observation", [("code", "|")], "search parameter `code`: needs a code: write `system|code`, `|code`, `system|` or `code`"),
        ("Observation", [("subject", "Group/1")], "search parameter `subject`: refers to `Group`; it can only refer to Patient"),
    ],
)
def test_bad_parameters_are_refused_by_name(rtype: str, items: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ApiError) as info:
        build(rtype, items, params_for(rtype))
    assert info.value.status == 400
    assert info.value.message == message


def test_values_are_bound_never_inlined() -> None:
    where = build("Patient", [("family", "O'Br_%"), ("gender", "female,male")], params_for("Patient"))
    assert "O'Br" not in where.sql()
    assert where.values == ["o'br\\_\\%%", "female", "male"]
    assert where.sql().count(" OR ") == 1


def test_control_parameters_do_not_filter() -> None:
    assert build("Patient", [("_count", "5"), ("_include", "x")], params_for("Patient")).sql() == "TRUE"


@pytest.mark.parametrize(
    ("value", "rid"),
    [("Patient/abc", "abc"), ("abc", "abc"), ("http://h/fhir/Patient/abc", "abc")],
)
def test_reference_forms(value: str, rid: str) -> None:
    assert reference_id("patient", value, ("Patient",)) == rid


def test_string_search_ignores_case_and_accents() -> None:
    import duckdb

    where = build("Patient", [("family", "GARC")], params_for("Patient"))
    con = duckdb.connect()
    rows = [('{"name": [{"family": "García"}]}',), ('{"name": [{"family": "Gardner"}]}',), ('{"name": [{"given": ["Garcia"]}]}',)]
    con.execute("CREATE TABLE raw (resource VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?)", rows)
    folded = "".join(f", {expr} AS {column}" for column, expr in folded_columns(params_for("Patient")))
    con.execute(f"CREATE TABLE t AS SELECT *{folded} FROM raw")  # as the serving copy does
    found = con.execute(f"SELECT resource FROM t WHERE {where.sql()}", where.values).fetchall()
    assert found == [rows[0]]


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("family", "ló", ["lopez"]),  # starts-with, accents folded both ways
        ("family", "nu", []),  # not the start of a value
        ("family:contains", "nu", ["lopez"]),
        ("given", "ann", ["lopez", "smith"]),  # a second given name starts with it
        ("given", "ie", []),
        ("given:contains", "ie", ["lopez"]),
        ("name", "an", ["lopez", "smith"]),
        ("name", "ol", ["smith"]),  # its text
        ("given", "a\x1fann", []),  # a separator in the value never spans two values
        ("family:exact", "López Núñez", ["lopez"]),
        ("family:exact", "lópez núñez", []),
    ],
)
def test_folded_name_columns_answer_like_the_json(param: str, value: str, expected: list[str]) -> None:
    """The precomputed folded columns give the answers the JSON paths give."""
    import duckdb

    people = [
        {"id": "lopez", "name": [{"family": "López Núñez", "given": ["Anna-Marie"]}]},
        {"id": "smith", "name": [{"family": "Smith", "given": ["Zoe", "Annabel"], "text": "Olga Smith"}]},
        {"id": "xi", "name": [{"text": "Xi"}]},
        {"id": "nameless"},
    ]
    value = value.replace("\\x1f", "\x1f")
    con = duckdb.connect()
    con.execute("CREATE TABLE raw (resource VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?)", [(json.dumps(p),) for p in people])
    folded = "".join(f", {expr} AS {column}" for column, expr in folded_columns(params_for("Patient")))
    con.execute(f"CREATE TABLE t AS SELECT *{folded} FROM raw")
    where = build("Patient", [(param, value)], params_for("Patient"))
    found = con.execute(f"SELECT resource FROM t WHERE {where.sql()} ORDER BY rowid", where.values).fetchall()
    assert [json.loads(r)["id"] for (r,) in found] == expected
