"""`$viewdefinition-run` over HTTP on the session's synthetic lake (15 persons): shipped views by
name, inline views and resources, the three output formats, patient limits, auth and audit, and
bad requests as OperationOutcomes with exact messages. Rows run over the lake are checked
against `medlake sql`'s session (the flat views gold reads)."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from medlake.config import ProjectConfig
from medlake.lake.paths import TenantLake
from medlake.serve.app import Access
from medlake.serve.outcome import ApiError
from medlake.serve.viewrun import lookup
from medlake.silver.views import flat, registry
from medlake.silver.views.materialize import DEFINITIONS_KEY

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

RUN = "/ViewDefinition/$viewdefinition-run"
GENDERS = {
    "resource": "Patient",
    "select": [{"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "gender", "path": "gender"}]}],
}


def params(*items: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(items)}


def diagnostics(response: Any) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return str(body["issue"][0]["diagnostics"])


class Calls:
    """A test authorizer (header `x-patient` bounds the caller to one patient, `x-deny` refuses)
    and audit sink that records its calls."""

    def __init__(self) -> None:
        self.audits: list[tuple[str, str, int]] = []
        self.auths: list[tuple[str, str]] = []

    def auth(self, request: Any, resource_type: str, interaction: str) -> Access:
        self.auths.append((resource_type, interaction))
        if request.headers.get("x-deny"):
            raise ApiError(403, "forbidden", f"no `{interaction}` on {resource_type} for this token")
        return Access("tester", request.headers.get("x-patient"))

    def audit(self, request: Any, principal: object, action: str, resource_type: str, count: int) -> None:
        self.audits.append((action, resource_type, count))


@pytest.fixture(scope="module")
def calls() -> Calls:
    return Calls()


@pytest.fixture(scope="module")
def api(project: ProjectConfig, calls: Calls) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from medlake.serve.app import create_app

    with TestClient(create_app(project, "demo", auth=calls.auth, audit=calls.audit)) as c:
        yield c


@pytest.fixture(scope="module")
def one_patient(sql: Any) -> str:
    """A patient with several conditions."""
    return str(sql.execute(
        "SELECT patient_id FROM silver.condition GROUP BY 1 HAVING count(*) > 2 ORDER BY 1 LIMIT 1"
    ).fetchall()[0][0])


# -- shipped views over the lake -------------------------------------------------------------------


def test_get_by_reference_gives_the_shipped_view_over_the_lake(api: Any, sql: Any, calls: Calls) -> None:
    r = api.get(RUN, params={"viewReference": "condition"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    rows = r.json()
    hand = flat.materialize(sql, "condition").to_pylist()  # the flat view gold reads
    expected = sorted((x["id"], x["patient_id"], x["code"], x["code_system"], x["onset_at"] is not None) for x in hand)
    got = sorted((x["id"], x["patient_id"], x["code"], x["code_system"], x["onset_at"] is not None) for x in rows)
    assert got == expected
    assert list(rows[0]) == _columns("condition")
    assert calls.audits[-1] == ("viewdefinition-run", "Condition", len(expected))
    assert calls.auths[-1] == ("Condition", "search")


def _columns(name: str) -> list[str]:
    from medlake.silver.views.engine import parse_view

    return parse_view(registry.shipped_view(name)).column_names()


def test_instance_level_with_limit_and_ndjson(api: Any) -> None:
    r = api.get("/ViewDefinition/observation/$viewdefinition-run", params={"_limit": "7", "_format": "ndjson"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = r.content.splitlines()
    assert len(lines) == 7
    assert list(orjson.loads(lines[0])) == _columns("observation")


def test_csv_has_a_header_and_the_rows(api: Any, sql: Any) -> None:
    r = api.post(RUN, json=params({"name": "viewReference", "valueReference": {"reference": "ViewDefinition/patient"}},
                                  {"name": "_format", "valueCode": "csv"}))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == _columns("patient")
    assert sorted(row[0] for row in table[1:]) == [i for (i,) in sql.execute("SELECT id FROM silver.patient ORDER BY id").fetchall()]
    assert {row[table[0].index("deceased")] for row in table[1:]} <= {"true", "false"}


def test_patient_parameter_keeps_one_compartment(api: Any, sql: Any, one_patient: str) -> None:
    r = api.post("/$viewdefinition-run", json=params(
        {"name": "viewReference", "valueCanonical": "https://medlake.dev/fhir/ViewDefinition/condition"},
        {"name": "patient", "valueReference": {"reference": f"Patient/{one_patient}"}},
    ))
    assert r.status_code == 200
    ids = sorted(x["id"] for x in r.json())
    assert ids == [i for (i,) in sql.execute("SELECT id FROM silver.condition WHERE patient_id = ? ORDER BY id", [one_patient]).fetchall()]
    assert {x["patient_id"] for x in r.json()} == {one_patient}


def test_a_patient_context_token_sees_only_its_patient(api: Any, one_patient: str, calls: Calls) -> None:
    mine = api.get(RUN, params={"viewReference": "condition"}, headers={"x-patient": one_patient}).json()
    assert mine and {x["patient_id"] for x in mine} == {one_patient}
    other = api.get(RUN, params={"viewReference": "condition", "patient": "someone-else"}, headers={"x-patient": one_patient})
    assert other.status_code == 200 and other.json() == []
    assert calls.audits[-1] == ("viewdefinition-run", "Condition", 0)


def test_a_refused_token_gets_the_authorizers_403(api: Any) -> None:
    r = api.get(RUN, params={"viewReference": "patient"}, headers={"x-deny": "1"})
    assert r.status_code == 403
    assert diagnostics(r) == "no `search` on Patient for this token"


def test_a_type_the_lake_lacks_gives_no_rows(api: Any) -> None:
    r = api.get(RUN, params={"viewReference": "location", "_format": "csv"})
    assert r.status_code == 200 and r.text.splitlines() == [",".join(_columns("location"))]


# -- inline views and resources (the Python evaluator; nothing read from the lake) -------------------


def test_inline_view_over_inline_resources(api: Any, calls: Calls) -> None:
    before = len(calls.audits)
    r = api.post(RUN, json=params(
        {"name": "viewResource", "resource": GENDERS},
        {"name": "resource", "resource": {"resourceType": "Patient", "id": "a", "gender": "female"}},
        {"name": "resource", "resource": {"resourceType": "Patient", "id": "b"}},
        {"name": "resource", "resource": {"resourceType": "Observation", "id": "o"}},
    ))
    assert r.status_code == 200
    assert r.json() == [{"id": "a", "gender": "female"}, {"id": "b", "gender": None}]
    assert len(calls.audits) == before  # no lake data was read


def test_inline_view_over_the_lake(api: Any, sql: Any) -> None:
    r = api.post(RUN, json=params({"name": "viewResource", "resource": GENDERS}, {"name": "_format", "valueString": "ndjson"}))
    rows = sorted((x["id"], x["gender"]) for x in map(orjson.loads, r.content.splitlines()))
    assert rows == sql.execute("SELECT id, resource::JSON->>'gender' FROM silver.patient ORDER BY id").fetchall()


def test_a_view_the_compiler_cannot_translate_runs_on_the_evaluator(api: Any, sql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from medlake.silver.views.engine import compile_sql
    from medlake.silver.views.engine.errors import ViewCompileError

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise ViewCompileError("not compiled here", element="select[0]")

    monkeypatch.setattr(compile_sql, "compile_view", refuse)
    r = api.post(RUN, json=params({"name": "viewResource", "resource": GENDERS}, {"name": "_limit", "valueInteger": 3}))
    assert r.status_code == 200
    stored = dict(sql.execute("SELECT id, resource::JSON->>'gender' FROM silver.patient").fetchall())
    assert len(r.json()) == 3 and all(stored[x["id"]] == x["gender"] for x in r.json())


# -- bad requests -----------------------------------------------------------------------------------


BAD: list[tuple[str, Any, int, str]] = [
    ("not Parameters", {"resourceType": "Patient"}, 400,
     '$viewdefinition-run: the body must be a FHIR Parameters resource (`"resourceType": "Parameters"`)'),
    ("no view", params({"name": "_format", "valueCode": "csv"}), 400,
     "$viewdefinition-run: give exactly one ViewDefinition: `viewResource` (inline), `viewReference` (by name), "
     "or its name in the URL (`/ViewDefinition/<name>/$viewdefinition-run`)"),
    ("two views", params({"name": "viewResource", "resource": GENDERS}, {"name": "viewReference", "valueString": "patient"}), 400,
     "$viewdefinition-run: give exactly one ViewDefinition: `viewResource` (inline), `viewReference` (by name), "
     "or its name in the URL (`/ViewDefinition/<name>/$viewdefinition-run`)"),
    ("invalid view", params({"name": "viewResource", "resource": {"resource": "Patient", "select": [{"column": [{"name": "x", "path": "name.where("}]}]}}), 400,
     "$viewdefinition-run: the ViewDefinition is not valid: select[0].column[0].path: expected a name, literal or '(', "
     "found end of expression at position 11 in FHIRPath `name.where(`"),
    ("view twice", params({"name": "viewResource", "resource": GENDERS}, {"name": "viewResource", "resource": GENDERS}), 400,
     "$viewdefinition-run: parameter `viewResource` is given more than once"),
    ("unknown view", params({"name": "viewReference", "valueReference": {"reference": "ViewDefinition/patients"}}), 404,
     "ViewDefinition `patients` is not known here; the views are: " + ", ".join(registry.SHIPPED)),
    ("unsupported", params({"name": "viewReference", "valueString": "patient"}, {"name": "_since", "valueInstant": "2020-01-01T00:00:00Z"}), 400,
     "parameter `_since` is not supported here; supported: _format, _limit, patient, resource, viewReference, viewResource"),
    ("unknown parameter", params({"name": "viewReference", "valueString": "patient"}, {"name": "colour", "valueString": "red"}), 400,
     "$viewdefinition-run: unknown parameter `colour`; supported: _format, _limit, patient, resource, viewReference, viewResource"),
    ("format", params({"name": "viewReference", "valueString": "patient"}, {"name": "_format", "valueCode": "parquet"}), 400,
     "$viewdefinition-run: `_format` `parquet` is not supported; use one of: json, ndjson, csv"),
    ("limit", params({"name": "viewReference", "valueString": "patient"}, {"name": "_limit", "valueInteger": 0}), 400,
     "$viewdefinition-run: `_limit` must be a whole number of at least 1, got `0`"),
    ("resource without resource", params({"name": "viewReference", "valueString": "patient"}, {"name": "resource", "valueString": "x"}), 400,
     "$viewdefinition-run: parameter `resource` needs a `resource` (the inline resource)"),
]


@pytest.mark.parametrize(("case", "body", "status", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_requests_are_operation_outcomes(api: Any, case: str, body: Any, status: int, message: str) -> None:
    r = api.post(RUN, json=body)
    assert (r.status_code, diagnostics(r)) == (status, message)


def test_a_column_with_several_values_fails_with_the_engines_message(api: Any) -> None:
    view = {"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.family"}]}]}
    patient = {"resourceType": "Patient", "id": "p", "name": [{"family": "A"}, {"family": "B"}]}
    inline = api.post(RUN, json=params({"name": "viewResource", "resource": view}, {"name": "resource", "resource": patient}))
    assert (inline.status_code, diagnostics(inline)) == (400, (
        "$viewdefinition-run: the view failed while running: column: column `f` path `name.family` yielded 2 values; "
        "set `collection: true` or narrow the path (e.g. with first())"
    ))
    view = {"resource": "Observation", "select": [{"column": [{"name": "c", "path": "code.coding.code"}]}]}
    lake = api.post(RUN, json=params({"name": "viewResource", "resource": view}))
    assert (lake.status_code, diagnostics(lake)) == (400, (
        "$viewdefinition-run: the view failed while running: column `c` path `code.coding.code` yielded more than one value; "
        "set `collection: true` or narrow the path (e.g. with first())"
    ))


def test_get_refuses_inline_parameters(api: Any) -> None:
    r = api.get(RUN, params={"viewResource": "{}"})
    assert (r.status_code, diagnostics(r)) == (400, "$viewdefinition-run: `viewResource` cannot be given in a query string; POST a Parameters body")


def test_body_that_is_not_json(api: Any) -> None:
    r = api.post(RUN, content=b"{nope", headers={"content-type": "application/fhir+json"})
    assert r.status_code == 400
    assert diagnostics(r).startswith("$viewdefinition-run: the body is not JSON: ")


# -- discovery ------------------------------------------------------------------------------------


def test_capability_statement_lists_the_operation(api: Any) -> None:
    rest = api.get("/metadata").json()["rest"][0]
    op = {"name": "viewdefinition-run", "definition": "http://sql-on-fhir.org/OperationDefinition/$viewdefinition-run"}
    assert op in rest["operation"]
    assert "ViewDefinition" not in {r["type"] for r in rest["resource"]}  # `resource` lists the lake's types only


def test_user_views_are_found_by_name_in_the_lakes_record(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "t")
    mine = {**GENDERS, "name": "genders"}
    lake.storage.write_bytes(DEFINITIONS_KEY, orjson.dumps({"genders": mine}))
    assert lookup("genders", lake) == mine
    assert lookup("ViewDefinition/genders", lake) == mine
    assert lookup("https://medlake.dev/fhir/ViewDefinition/patient|1.0", lake) == registry.shipped_view("patient")
    with pytest.raises(ApiError) as e:
        lookup("gender", lake)
    assert e.value.message == "ViewDefinition `gender` is not known here; the views are: " + ", ".join([*registry.SHIPPED, "genders"])
