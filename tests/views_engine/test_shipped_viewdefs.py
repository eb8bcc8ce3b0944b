"""The shipped ViewDefinitions (src/medlake/silver/views/definitions/) against the hand-written
flat views they describe, over silver built by the pipeline from two kinds of data:

- `synthetic`: the synthetic health system (15 persons, seed 7) through land → bronze → silver:
  delimited feeds, HL7 v2, X12 837/835, FHIR bundles, wearables (always available);
- `shared`: real third-party FHIR from ../shared — the SMART Synthea sample (16 patients, with
  AllergyIntolerance and blood-pressure panels with components), one fhir-data-pipes Synthea
  bundle and the US Core examples (with Location and Coverage); skipped when ../shared is absent.

For every view with hand SQL, the compiled ViewDefinition must give the same rows on every
column both have (a multiset comparison after normalising both sides: instants through the
flat views' own `fhir_instant`, dates by their first 10 characters, numbers to the hand
column's numeric type, everything then as text). The columns only the hand SQL has are listed
in `HAND_ONLY` with the reason a ViewDefinition cannot produce them; the test fails if a view
loses or gains a column without this list saying so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.silver.schema import table_name
from medlake.silver.views import flat, registry
from medlake.silver.views.engine import parse_view, run_view
from medlake.silver.views.engine.compile_sql import compile_view
from medlake.silver.views.materialize import (
    DEFINITIONS_KEY,
    stored_definitions,
    write_definition_views,
)
from medlake.synth.generate import generate
from shared_data import shared_path

DEFINITIONS = Path(registry.__file__).parent / "definitions"

LAKE_COLUMN = "a lake column of silver.<type> (not part of the FHIR resource a ViewDefinition reads)"
HAND_ONLY: dict[str, dict[str, str]] = {
    view: {"last_updated": LAKE_COLUMN}
    for view in registry.SHIPPED
    if view not in registry.COMPILED
}
for _view in ("patient", "practitioner", "organization"):
    HAND_ONLY[_view]["source_id"] = LAKE_COLUMN + ": the source's own key of the record"
HAND_ONLY["explanation_of_benefit"]["allowed"] = (
    "the sum of the lines' `eligible` adjudication amounts: the ViewDefinition FHIRPath subset has no "
    "sum()/aggregate(), and forEach would give one row per line instead of one per EOB"
)
# Not excluded, but worth knowing (both compared and equal on this data):
# - claim.principal_diagnosis_*: the hand SQL falls back to the diagnosis with the lowest `sequence`,
#   the ViewDefinition to the first listed (FHIRPath has no sort/min); X12 837 and Synthea list
#   diagnoses in sequence order, so they agree on every row here.
# - claim.frequency, explanation_of_benefit.claim_status_code: the hand SQL matches the extension url
#   by its ending (`…/claim-frequency`), the ViewDefinition by the full url medlake's X12 mappings write.

SHARED_YAML = """
lake: ./lake
tenants:
  - name: t
    sources:
      - {{name: smart, kind: fhir, location: "{root}/data/synthea-fhir-r4/smart-generated-sample-data-r4/*.json"}}
      - {{name: pipes, kind: fhir, location: "{root}/data/synthea-fhir-r4/fhir-data-pipes-synthea-hiv/Neomi684*.json"}}
      - {{name: uscore, kind: fhir, location: "{root}/data/fhir-examples/us-core/examples/*.json"}}
"""


def _build(project: ProjectConfig, tenant: str) -> Any:
    run(project, tenant, stages=("land", "bronze", "silver"), workers=1)
    con = connect(open_lake(project, tenant), gold=False)
    con.execute("SET TimeZone = 'UTC'")
    flat.install_macros(con)
    flat.ensure_silver_tables(con)
    return con


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("shipped_synth")
    generate(out, 15, seed=7)
    con = _build(load_config(out / "medlake.yaml"), "demo")
    yield con
    con.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = shared_path("data", "synthea-fhir-r4").parents[1]
    out = tmp_path_factory.mktemp("shipped_shared")
    (out / "medlake.yaml").write_text(SHARED_YAML.format(root=root.as_posix()), encoding="utf-8")
    con = _build(load_config(out / "medlake.yaml"), "t")
    yield con
    con.close()


@pytest.fixture(params=["synthetic", pytest.param("shared", marks=pytest.mark.shared)])
def lake_con(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


# -- the files -------------------------------------------------------------------------------


def test_one_valid_documented_file_per_shipped_view() -> None:
    assert sorted(p.stem for p in DEFINITIONS.glob("*.json")) == sorted(registry.SHIPPED)
    for name in registry.SHIPPED:
        raw = registry.shipped_view(name)
        vd = parse_view(raw)
        assert raw["name"] == name
        assert raw["url"] == f"https://medlake.dev/fhir/ViewDefinition/{name}"
        assert raw["resourceType"] == "ViewDefinition" and raw["status"] == "active"
        assert raw["description"].startswith("Grain: one row per silver"), name
        columns = _columns(raw["select"])
        assert [c["name"] for c in columns] == vd.column_names()
        undocumented = [c["name"] for c in columns if not c.get("description") or not c.get("type")]
        assert undocumented == [], f"{name}: columns without description or type: {undocumented}"
        compile_view(vd, source="silver.x")  # every shipped view compiles


def _columns(selects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in selects:
        out += s.get("column", [])
        out += _columns(s.get("select", []))
        out += _columns(s.get("unionAll", [])[:1])
    return out


def test_unknown_shipped_view_names_the_shipped_ones() -> None:
    with pytest.raises(Exception) as e:
        registry.shipped_view("patients")
    assert str(e.value) == (
        "`patients` is not a shipped ViewDefinition; they are: " + ", ".join(registry.SHIPPED) + ". Did you mean `patient`?"
    )


# -- against the hand SQL ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", [v for v in registry.SHIPPED if v not in registry.COMPILED])
def test_viewdefinition_gives_the_hand_sql_rows(lake_con: Any, name: str) -> None:
    vd = registry.shipped_view(name)
    hand = flat.materialize(lake_con, name)
    lake_con.register("hand_rows", hand)
    source = "silver." + table_name(vd["resource"])
    lake_con.execute(f"CREATE OR REPLACE TEMP TABLE vd_rows AS {compile_view(vd, source=source)}")
    try:
        hand_types = {n: str(t) for n, t in zip(hand.column_names, lake_con.sql("SELECT * FROM hand_rows").types, strict=True)}
        vd_columns = [d[0] for d in lake_con.execute("SELECT * FROM vd_rows LIMIT 0").description]
        assert [c for c in vd_columns if c not in hand_types] == [], "ViewDefinition columns the hand SQL lacks"
        assert sorted(set(hand_types) - set(vd_columns)) == sorted(HAND_ONLY[name])
        shared_cols = [c for c in hand.column_names if c in vd_columns]
        h = ", ".join(f'{_norm(c, hand_types[c], False)} AS "{c}"' for c in shared_cols)
        v = ", ".join(f'{_norm(c, hand_types[c], True)} AS "{c}"' for c in shared_cols)
        assert lake_con.execute("SELECT count(*) FROM vd_rows").fetchall() == [(hand.num_rows,)]
        only_hand = lake_con.execute(f"SELECT {h} FROM hand_rows EXCEPT ALL SELECT {v} FROM vd_rows LIMIT 3").fetchall()
        only_vd = lake_con.execute(f"SELECT {v} FROM vd_rows EXCEPT ALL SELECT {h} FROM hand_rows LIMIT 3").fetchall()
        assert (only_hand, only_vd) == ([], []), f"{name}: rows differ on columns {shared_cols}"
    finally:
        lake_con.unregister("hand_rows")


def _norm(column: str, hand_type: str, from_vd: bool) -> str:
    """One column as text, the ViewDefinition's lexical FHIR values brought to the hand column's type."""
    col = f'"{column}"'
    if hand_type.startswith("TIMESTAMP"):
        return f"CAST({'fhir_instant(' + col + ')' if from_vd else col} AS VARCHAR)"
    if hand_type == "DATE":
        return f"CAST({'TRY_CAST(left(' + col + ', 10) AS DATE)' if from_vd else col} AS VARCHAR)"
    if hand_type.startswith(("DECIMAL", "DOUBLE", "INTEGER", "BIGINT")):
        return f"CAST(CAST({col} AS {hand_type}) AS VARCHAR)"
    return f"CAST({col} AS VARCHAR)"


@pytest.mark.slow
@pytest.mark.shared
def test_the_shared_data_reaches_what_the_synthetic_data_lacks(shared: Any) -> None:
    """The comparison above is only as good as the shapes in the data: components, allergies,
    contained medications and several codings must be there."""
    def count(sql: str) -> int:
        return int(shared.execute(sql).fetchall()[0][0])

    assert count("SELECT count(*) FROM silver.allergy_intolerance") == 11
    assert count("SELECT count(*) FROM (" + flat.view_sql("observation") + ") WHERE parent_id IS NOT NULL") > 100
    assert count("SELECT count(*) FROM silver.coverage") == 1
    assert count("SELECT count(*) FROM silver.location") == 2


# -- the two executors agree on the shipped views --------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.SHIPPED)
def test_compiler_and_evaluator_agree_on_real_silver(synthetic: Any, name: str) -> None:
    vd = registry.shipped_view(name)
    table = f"silver.{table_name(vd['resource'])}"
    resources = [orjson.loads(r[0]) for r in synthetic.execute(f"SELECT resource FROM {table}").fetchall()] if _has(synthetic, table) else []
    result = synthetic.execute(compile_view(vd, source=table if resources else "(SELECT NULL::VARCHAR AS resource WHERE false)", typed=False))
    names = [d[0] for d in result.description]
    compiled = [{n: None if v is None else orjson.loads(v) for n, v in zip(names, row, strict=True)} for row in result.fetchall()]
    evaluated = run_view(vd, resources)
    assert Counter(map(_canonical, compiled)) == Counter(map(_canonical, evaluated))


def _has(con: Any, table: str) -> bool:
    return bool(con.execute(f"SELECT count(*) FROM duckdb_views() WHERE schema_name = 'silver' AND view_name = '{table.split('.')[1]}'").fetchall()[0][0])


def _canonical(row: dict[str, Any]) -> bytes:
    return orjson.dumps({k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in row.items()}, option=orjson.OPT_SORT_KEYS)


# -- the views without hand SQL are materialized from their ViewDefinition ------------------------


@pytest.mark.slow
@pytest.mark.shared
def test_diagnostic_report_and_location_are_materialized_from_their_viewdefinitions(shared: Any, tmp_path: Path) -> None:
    from medlake.lake.paths import TenantLake

    lake = TenantLake.open(str(tmp_path), "t")
    views = {name: registry.shipped_view(name) for name in registry.COMPILED}
    counts, failed = write_definition_views(shared, lake, views)
    assert failed == {}
    assert counts == {
        "diagnostic_report": shared.execute("SELECT count(*) FROM silver.diagnostic_report").fetchall()[0][0],
        "location": 2,
    }
    assert stored_definitions(lake) == views
    assert lake.storage.exists(DEFINITIONS_KEY)
    from deltalake import DeltaTable

    location = DeltaTable(lake.view("location")).to_pyarrow_table().to_pylist()
    hospital = next(r for r in location if r["name"] == "Holy Family Hospital")
    assert {k: hospital[k] for k in ("source", "status", "type_code", "type_display", "city", "state", "postal_code", "phone")} == {
        "source": "uscore", "status": "active", "type_code": "HOSP", "type_display": "Hospital",
        "city": "METHUEN", "state": "MA", "postal_code": "01844", "phone": "9786870156",
    }
    assert hospital["address_line"] == "70 EAST ST" and hospital["managing_organization_id"] is not None
    report = DeltaTable(lake.view("diagnostic_report")).to_pyarrow_table()
    assert report.column_names == parse_view(views["diagnostic_report"]).column_names()
    assert report.schema.field("result_count").type == "int64"
