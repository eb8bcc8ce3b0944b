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


def _cases() -> list[Any]:
    files = sorted((SUITE / "tests").glob("*.json")) if (SUITE / "tests").is_dir() else []
    params = []
    for f in files:
        for case in json.loads(f.read_text(encoding="utf-8"))["tests"]:
            params.append(pytest.param(f.name, case["title"], id=f"{f.stem}::{case['title']}"))
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
    assert "WHERE CAST(_top[1] AS VARCHAR) = '\"Patient\"'" in sql
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


def test_constructs_the_compiler_cannot_translate_are_named() -> None:
    path = "(birthDate.ofType(date) | birthDate.ofType(time)).lowBoundary()"
    view = {"resource": "Patient", "select": [{"column": [{"name": "b", "path": path}]}]}
    construct = "`|` of strings of different temporal types under a boundary function"
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


# -- differential: the fast path and its guards -------------------------------------------------
# Observations whose elements change shape (object, list, null, scalar, nested list), carry keys
# that a missing element's choice scan would find (`statusReason` for `status`, `displayName`
# for `display`), non-ASCII text (a `\u` escape in the JSON), and references with `_history`:
# every guard of compile_speculate fails on some of them and must hand the row to the exact SQL.

def _shapes(normal: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `normal` or a list of 1-3 of them; sometimes null items, empty lists, nested lists, `odd`."""
    listed = st.lists(normal, min_size=1, max_size=3)
    holey = st.lists(st.one_of(normal, st.none()), max_size=3)
    return st.one_of(normal, normal, normal, listed, listed, listed, holey, odd, st.none(), st.lists(listed, max_size=1))


_text = st.sampled_from(["a", "final", "José", "x/y"])
_fast_coding = st.fixed_dictionaries({}, optional={
    "system": _shapes(st.sampled_from(["http://loinc.org", "urn:s"]), st.just(7)),
    "code": _shapes(_text, st.integers(0, 2)), "display": _shapes(_text, st.just(True)),
    "displayName": _text, "resourceType": st.just("system"),
})  # fmt: skip
_fast_concept = st.fixed_dictionaries({}, optional={"coding": _shapes(_fast_coding, _text), "text": _text})
_fast_ref = st.fixed_dictionaries({}, optional={"reference": _shapes(st.sampled_from(
    ["Patient/1", "Encounter/e", "#c", "Patient/2/_history/1", "http://h/fhir/Patient/3", "Patient", "Pat\u00e9nt/4"]), st.just(1))})  # fmt: skip
_temporal = st.sampled_from(["2010", "2012-02", "2010-10-10", "2010-10-10T12:34", "2010-10-10T10:00:00.5+05:00",
                             "12:34", "12:34:56.789", "x"])  # fmt: skip
_number = st.integers(-50, 50) | st.floats(-9, 9, width=16) | st.sampled_from([1.0, 0.1, 1e-05, 123.456])
_fast_value = st.one_of(
    st.fixed_dictionaries({"valueQuantity": _shapes(st.fixed_dictionaries({}, optional={"value": _shapes(_number, _text), "unit": _text}), _text)}),
    st.fixed_dictionaries({"valueCodeableConcept": _shapes(_fast_concept, _text)}),
    st.fixed_dictionaries({"valueDateTime": _temporal}), st.fixed_dictionaries({"valueTime": _temporal}),
    st.fixed_dictionaries({"valueDate": _temporal}), st.fixed_dictionaries({"valueDecimal": _number}),
    st.fixed_dictionaries({"value": st.one_of(_number, _temporal, _fast_concept)}), st.just({}),
)  # fmt: skip
_fast_observation = st.fixed_dictionaries({"resourceType": st.just("Observation")}, optional={
    "status": _shapes(st.sampled_from(["final", "amended"]), st.just(3)), "statusReason": _text,
    "subject": _shapes(_fast_ref, _text), "encounter": _fast_ref,
    "category": _shapes(_fast_concept, _text), "code": _shapes(_fast_concept, _text),
    "effectiveDateTime": _temporal, "effective": _temporal,
}).flatmap(lambda o: _fast_value.map(lambda v: {**o, **v}))  # fmt: skip
_fast_observations = st.lists(_fast_observation, max_size=4).map(
    lambda os: [{**o, "id": f"o{i}"} for i, o in enumerate(os)]
)


def _flat(*columns: tuple[str, str], where: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"resource": "Observation", "select": [{"column": [
        {"name": "id", "path": "getResourceKey()"}, *({"name": n, "path": p} for n, p in columns)]}]}  # fmt: skip
    if where is not None:
        view["where"] = [{"path": where}]
    return view


FAST_PATH_VIEWS: list[dict[str, Any]] = [
    _flat(("status", "status.first()"), ("category", "category.coding.code.first()"),
          ("loinc", "code.coding.where(system = 'http://loinc.org').code.first()"), ("display", "code.coding.display.first()"),
          ("has_code", "code.exists()"), ("no_category", "category.empty()"), ("loinc_exists", "code.coding.where(system = 'urn:s').exists()"),
          ("final", "status.first() = 'final'"), ("logic", "status.first() != 'final' or code.exists().not()"),
          ("self", "%resource.id")),
    _flat(("status", "status"), ("patient", "subject.getReferenceKey(Patient)"), ("any_ref", "subject.getReferenceKey()"),
          ("encounter", "encounter.getReferenceKey(Encounter)")),
    _flat(("effective", "effective.ofType(dateTime)"), ("value", "value.ofType(Quantity).value"),
          ("unit", "value.ofType(Quantity).unit"), ("value_code", "value.ofType(CodeableConcept).coding.code.first()")),
    _flat(("code", "code.coding.code")),
    _flat(("category", "category.coding.system"), where="status.first() = 'final'"),
    _flat(("low", "value.ofType(Quantity).value.first().lowBoundary()"), ("high", "value.ofType(Quantity).value.first().highBoundary()"),
          ("dt_low", "value.ofType(dateTime).lowBoundary()"), ("dt_high", "effective.ofType(dateTime).highBoundary()"),
          ("time", "value.ofType(time).lowBoundary()"), ("date", "value.ofType(date).highBoundary()"),
          ("guess", "value.lowBoundary()"), ("decimal", "value.ofType(decimal).highBoundary(3)")),
]  # fmt: skip


@pytest.mark.parametrize("view_index", range(len(FAST_PATH_VIEWS)))
@settings(max_examples=60, deadline=None)
@given(observations=_fast_observations)
def test_the_fast_path_and_the_exact_sql_agree_with_the_evaluator_on_odd_shapes(
    view_index: int, observations: list[dict[str, Any]]
) -> None:
    view = FAST_PATH_VIEWS[view_index]
    try:
        expected = run_view(view, observations)
    except ViewDefinitionError:  # one resource's error would hide the others: compare them one by one
        for observation in observations:
            _assert_same_rows(view, [observation])
        return
    assert _canonical(run_view_sql(view, observations, con=_CON)) == _canonical(expected)


def _assert_same_rows(view: dict[str, Any], resources: list[dict[str, Any]]) -> None:
    try:
        expected = run_view(view, resources)
    except ViewDefinitionError:
        with pytest.raises(ViewDefinitionError):
            run_view_sql(view, resources, con=_CON)
        return
    assert _canonical(run_view_sql(view, resources, con=_CON)) == _canonical(expected)


def test_a_flat_column_reads_its_path_once_and_keeps_the_exact_sql_for_odd_rows() -> None:
    view = _flat(("display", "code.coding.display.first()"))
    sql = compile_view(view, source="observations")
    assert '\'$."code"."coding"[0]."display"\'' in sql
    assert "ELSE list_transform([CAST(resource AS JSON)], lambda _json:" in sql
    two_codings = {"resourceType": "Observation", "id": "o1",
                   "code": {"coding": [{"code": "a"}, {"display": "second"}]}}  # fmt: skip
    assert run_view_sql(view, [two_codings]) == [{"id": "o1", "display": "second"}]


def _obs(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", **elements}


_LOINC, _OTHER = {"system": "http://loinc.org", "code": "L"}, {"system": "urn:s", "code": "S"}
GUARD_CASES = [  # (what the guard must notice, path, resource, the evaluator's value or an error)
    ("two items where one is needed", "code.coding.code", _obs(code={"coding": [_OTHER, _LOINC]}), ViewDefinitionError),
    ("the first item fails the where", "code.coding.where(system = 'http://loinc.org').code.first()",
     _obs(code={"coding": [_OTHER, _LOINC]}), "L"),
    ("category[0] has no coding", "category.coding.code.first()",
     _obs(category=[{"text": "t"}, {"coding": [{"code": "vital"}]}]), "vital"),
    ("a choice key stands for a missing key", "status", _obs(statusReason="r"), "r"),
    ("a choice key inside an array item", "code.coding.display.first()", _obs(code={"coding": [{"displayName": "d"}]}), "d"),
    ("a reference with a version", "subject.getReferenceKey(Patient)", _obs(subject={"reference": "Patient/p/_history/2"}), "p"),
    ("the choice stem is itself a key", "value.ofType(decimal)", _obs(value=2.5, valueQuantity={"value": 1}), 2.5),
    ("an object where an array was hinted", "code.coding.code", _obs(code={"coding": {"code": "c"}}), "c"),
    ("an array where an object was assumed", "status", _obs(status=["final"]), "final"),
    ("an empty array then an item", "category.coding.code.first()", _obs(category=[{"coding": []}, {"coding": [{"code": "x"}]}]), "x"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "path", "resource", "expected"), GUARD_CASES, ids=[c[0] for c in GUARD_CASES])
def test_each_guard_hands_its_odd_rows_to_the_exact_sql(what: str, path: str, resource: dict[str, Any], expected: Any) -> None:
    view = _flat(("v", path))
    if expected is ViewDefinitionError:
        with pytest.raises(ViewDefinitionError):
            run_view(view, [resource])
        with pytest.raises(ViewDefinitionError, match="column `v`"):
            run_view_sql(view, [resource])
        return
    assert run_view(view, [resource]) == [{"id": "o1", "v": expected}]
    assert run_view_sql(view, [resource]) == [{"id": "o1", "v": expected}]
