"""The ViewDefinition -> DuckDB SQL compiler: the official suite, the SQL of small views, and
differential tests (random resources through both executors give the same rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medlake.lake.catalog import duckdb_connect
from medlake.silver.views.engine import ViewDefinitionError, run_view
from medlake.silver.views.engine.compile_sql import compile_view, run_view_sql
from medlake.silver.views.engine.conformance import load_suite_file, run_case
from medlake.silver.views.engine.errors import ViewCompileError
from shared_data import SHARED, shared_path

SUITE = SHARED / "conformance" / "sql-on-fhir-v2"
_BOUNDARY = "lowBoundary()/highBoundary() are not compiled to SQL (ViewCompileError); the Python evaluator runs them"
XFAIL: dict[tuple[str, str], str] = {
    ("fn_boundary.json", title): _BOUNDARY
    for title in ("decimal lowBoundary", "decimal highBoundary", "datetime lowBoundary", "datetime highBoundary",
                  "date lowBoundary", "date highBoundary", "time lowBoundary", "time highBoundary")
}  # fmt: skip


def _cases() -> list[Any]:
    files = sorted((SUITE / "tests").glob("*.json")) if (SUITE / "tests").is_dir() else []
    params = []
    for f in files:
        for case in json.loads(f.read_text(encoding="utf-8"))["tests"]:
            key = (f.name, case["title"])
            marks = [pytest.mark.xfail(strict=True, reason=XFAIL[key])] if key in XFAIL else []
            params.append(
                pytest.param(f.name, case["title"], id=f"{f.stem}::{case['title']}", marks=marks)
            )
    return params or [pytest.param("", "", id="suite-absent")]


@pytest.mark.shared
@pytest.mark.parametrize(("file", "title"), _cases())
def test_official_case_through_the_compiler(file: str, title: str) -> None:
    data = load_suite_file(shared_path("conformance", "sql-on-fhir-v2", "tests", file))
    case = next(t for t in data["tests"] if t["title"] == title)
    assert run_case(case, data["resources"], runner=run_view_sql) is None


# -- the SQL of small views -------------------------------------------------------------------

_PATIENTS = [
    {"resourceType": "Patient", "id": "p1", "active": True, "birthDate": "1980-02-03",
     "name": [{"family": "Ng", "given": ["Ann", "B"]}, {"family": "Ho"}], "multipleBirthInteger": 2},
    {"resourceType": "Patient", "id": "p2", "managingOrganization": {"reference": "Organization/o1/_history/3"}},
    {"resourceType": "Observation", "id": "o1"},
]  # fmt: skip


def _sql_rows(
    view: dict[str, Any], source: str = "patients", typed: bool = True
) -> list[tuple[Any, ...]]:
    con = duckdb_connect()
    con.execute("CREATE TABLE patients (resource JSON)")
    con.executemany("INSERT INTO patients VALUES (?)", [[json.dumps(p)] for p in _PATIENTS])
    return sorted(con.sql(compile_view(view, source=source, typed=typed)).fetchall(), key=repr)


def test_a_flat_view_is_one_row_per_resource_of_its_type_with_typed_columns() -> None:
    view = {"resource": "Patient", "select": [{"column": [
        {"name": "id", "path": "getResourceKey()", "type": "id"},
        {"name": "active", "path": "active", "type": "boolean"},
        {"name": "births", "path": "multipleBirth.ofType(integer)", "type": "integer"},
        {"name": "org", "path": "managingOrganization.getReferenceKey(Organization)", "type": "id"},
        {"name": "given", "path": "name.given", "type": "string", "collection": True}]}]}  # fmt: skip
    assert _sql_rows(view) == [("p1", True, 2, None, ["Ann", "B"]), ("p2", None, None, "o1", [])]


def test_for_each_or_null_unnests_with_row_index_and_untyped_columns_stay_json() -> None:
    view = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]},
            {"forEachOrNull": "name", "column": [{"name": "i", "path": "%rowIndex"}, {"name": "family", "path": "family"}]}]}  # fmt: skip
    assert _sql_rows(view) == [('"p1"', "0", '"Ng"'), ('"p1"', "1", '"Ho"'), ('"p2"', "0", None)]


def test_a_where_keeps_only_resources_where_it_is_true() -> None:
    view = {
        "resource": "Patient",
        "where": [{"path": "name.exists()"}],
        "select": [{"column": [{"name": "id", "path": "id", "type": "id"}]}],
    }
    sql = compile_view(view, source="patients")
    assert "WHERE resource->>'resourceType' = 'Patient'" in sql
    assert _sql_rows(view) == [("p1",)]


def test_a_column_with_many_values_is_an_error_naming_the_column() -> None:
    view = {
        "resource": "Patient",
        "select": [{"column": [{"name": "family", "path": "name.family"}]}],
    }
    with pytest.raises(
        ViewDefinitionError, match=r"column `family` path `name.family` yielded more than one value"
    ):
        run_view_sql(view, _PATIENTS)


@pytest.mark.parametrize(("path", "construct"), [("birthDate.lowBoundary()", "`lowBoundary()`"),
                                                 ("birthDate.highBoundary()", "`highBoundary()`")])  # fmt: skip
def test_constructs_the_compiler_cannot_translate_are_named(path: str, construct: str) -> None:
    view = {"resource": "Patient", "select": [{"column": [{"name": "b", "path": path}]}]}
    with pytest.raises(ViewCompileError) as info:
        compile_view(view)
    assert info.value.message == (f"path: {construct} cannot be compiled to SQL; run this view with the Python evaluator "
                                  "(`run_view`, or `--engine python`)")  # fmt: skip
    assert info.value.context["construct"] == construct


def test_a_repeat_deeper_than_the_unrolled_depth_is_an_error_not_missing_rows() -> None:
    deep: dict[str, Any] = {"linkId": "4"}
    for link in ("3", "2", "1"):
        deep = {"linkId": link, "item": [deep]}
    questionnaire = {"resourceType": "QuestionnaireResponse", "id": "q", "item": [deep]}
    view = {
        "resource": "QuestionnaireResponse",
        "select": [{"repeat": ["item"], "column": [{"name": "link", "path": "linkId"}]}],
    }
    assert [r["link"] for r in run_view(view, [questionnaire])] == ["1", "2", "3", "4"]
    with pytest.raises(ViewDefinitionError, match="repeat goes deeper than 3 levels"):
        run_view_sql(view, [questionnaire])


def test_run_view_sql_reuses_a_given_connection_and_leaves_it_clean(tmp_path: Path) -> None:
    con = duckdb_connect(str(tmp_path / "x.duckdb"))
    view = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}
    assert sorted(r["id"] for r in run_view_sql(view, _PATIENTS, con=con)) == ["p1", "p2"]
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall() == [
        (0,)
    ]


# -- differential: both executors, random resources -------------------------------------------

_word = st.sampled_from(["a", "b", "home", "work", "x y"])
_coding = st.fixed_dictionaries(
    {}, optional={"system": st.sampled_from(["http://loinc.org", "urn:s"]), "code": _word}
)
_extension = st.fixed_dictionaries({"url": st.sampled_from(["urn:e1", "urn:e2"])},
                                   optional={"valueString": _word, "valueInteger": st.integers(-3, 3)})  # fmt: skip
_value = st.one_of(
    st.fixed_dictionaries({"valueQuantity": st.fixed_dictionaries({}, optional={"value": st.integers(-5, 5) | st.floats(-9, 9, width=16), "unit": _word})}),
    st.fixed_dictionaries({"valueString": _word}),
    st.fixed_dictionaries({"valueBoolean": st.booleans()}),
    st.fixed_dictionaries({"valueCodeableConcept": st.fixed_dictionaries({}, optional={"coding": st.lists(_coding, max_size=3)})}),
    st.just({}),
)  # fmt: skip
_component = st.fixed_dictionaries({}, optional={"code": st.fixed_dictionaries({}, optional={"coding": st.lists(_coding, max_size=2)}),
                                                 "extension": st.lists(_extension, max_size=2)}).flatmap(
    lambda c: _value.map(lambda v: {**c, **v}))  # fmt: skip
_observation = st.fixed_dictionaries({"resourceType": st.just("Observation")}, optional={
    "status": st.sampled_from(["final", "amended"]),
    "subject": st.fixed_dictionaries({}, optional={"reference": st.sampled_from(["Patient/1", "Group/g", "#c", "Patient/2/_history/1"])}),
    "code": st.fixed_dictionaries({}, optional={"coding": st.lists(_coding, max_size=3), "text": _word}),
    "component": st.lists(_component, max_size=3),
    "extension": st.lists(_extension, max_size=2),
}).flatmap(lambda o: _value.map(lambda v: {**o, **v}))  # fmt: skip
_observations = st.lists(_observation, max_size=4).map(
    lambda os: [{**o, "id": f"o{i}"} for i, o in enumerate(os)]
)

DIFFERENTIAL_VIEWS: list[dict[str, Any]] = [
    {"resource": "Observation", "select": [{"column": [
        {"name": "id", "path": "getResourceKey()"}, {"name": "status", "path": "status"},
        {"name": "patient", "path": "subject.getReferenceKey(Patient)"}, {"name": "any_ref", "path": "subject.getReferenceKey()"},
        {"name": "codes", "path": "code.coding.code", "collection": True}, {"name": "loinc", "path": "code.coding.where(system = 'http://loinc.org').code.first()"},
        {"name": "quantity", "path": "value.ofType(Quantity).value"}, {"name": "text", "path": "value.ofType(string)"},
        {"name": "flag", "path": "value.ofType(boolean)"}, {"name": "joined", "path": "code.coding.code.join('|')"},
        {"name": "n_ext", "path": "extension.count()"}, {"name": "e1", "path": "extension('urn:e1').value.ofType(string).first()"},
        {"name": "no_code", "path": "code.empty()"}, {"name": "last", "path": "code.coding.last().code"},
        {"name": "tail", "path": "code.coding.tail().code", "collection": True},
        {"name": "logic", "path": "status = 'final' and code.exists() or value.exists().not()"},
    ]}]},
    {"resource": "Observation", "select": [{"column": [{"name": "id", "path": "id"}]},
        {"forEachOrNull": "component", "column": [{"name": "i", "path": "%rowIndex"}, {"name": "c", "path": "code.coding.code.first()"},
         {"name": "v", "path": "value.ofType(Quantity).value"}, {"name": "big", "path": "value.ofType(Quantity).value > 1"}],
         "select": [{"forEach": "extension", "column": [{"name": "url", "path": "url"}, {"name": "j", "path": "%rowIndex"}]}]}]},
    {"resource": "Observation", "where": [{"path": "component.exists()"}], "select": [{"column": [{"name": "id", "path": "id"}]},
        {"unionAll": [{"forEach": "code.coding", "column": [{"name": "code", "path": "code"}, {"name": "k", "path": "%rowIndex + 1"}]},
                      {"forEach": "component.code.coding", "column": [{"name": "code", "path": "code"}, {"name": "k", "path": "%rowIndex * 2"}]}]}]},
    {"resource": "Observation", "select": [{"column": [
        {"name": "id", "path": "id"}, {"name": "first_comp", "path": "component[0].value.ofType(Quantity).value"},
        {"name": "units", "path": "component.value.ofType(Quantity).unit | value.ofType(Quantity).unit", "collection": True},
        {"name": "neg", "path": "-(value.ofType(Quantity).value)"},
        {"name": "concat", "path": "status & '-' & code.text"},
    ]}]},
]  # fmt: skip


def _canonical(rows: list[dict[str, Any]]) -> list[str]:
    def plain(v: Any) -> Any:
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    return sorted(
        json.dumps(
            {k: ([plain(x) for x in v] if isinstance(v, list) else plain(v)) for k, v in r.items()},
            sort_keys=True,
        )
        for r in rows
    )


_CON = duckdb_connect()


@pytest.mark.parametrize("view_index", range(len(DIFFERENTIAL_VIEWS)))
@settings(max_examples=25, deadline=None)
@given(observations=_observations)
def test_both_executors_give_the_same_rows_on_random_observations(
    view_index: int, observations: list[dict[str, Any]]
) -> None:
    view = DIFFERENTIAL_VIEWS[view_index]
    try:
        expected = run_view(view, observations)
    except ViewDefinitionError:
        with pytest.raises(ViewDefinitionError):
            run_view_sql(view, observations, con=_CON)
        return
    assert _canonical(run_view_sql(view, observations, con=_CON)) == _canonical(expected)
