"""User ViewDefinition folders: loading and checking (bad files are reported, not fatal), the
`views_dir` keys, and materialization by the gold stage's view step into `silver/views/<name>`,
`views.<name>` in `medlake sql` and in as-of sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from medlake.config import load_config, parse_config
from medlake.errors import ConfigError
from medlake.gold.stage import build_views
from medlake.lake.asof import connect_as_of
from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RunLog, new_run_id
from medlake.pipeline import NullReporter, RunSummary, StageResult, open_lake, run
from medlake.silver.views.materialize import stored_definitions
from medlake.silver.views.registry import UserViews, load_views_dir, tenant_views
from medlake.synth.generate import generate

HEART_RATE = {
    "resourceType": "ViewDefinition",
    "name": "heart_rate",
    "status": "active",
    "resource": "Observation",
    "where": [{"path": "code.coding.where(system = 'http://loinc.org' and code = '8867-4').exists()"}],
    "select": [{"column": [
        {"name": "id", "path": "getResourceKey()", "type": "id"},
        {"name": "patient_id", "path": "subject.getReferenceKey(Patient)", "type": "id"},
        {"name": "bpm", "path": "value.ofType(Quantity).value", "type": "decimal"},
    ]}],
}
GIVEN = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}


def write(folder: Path, name: str, body: Any) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(body if isinstance(body, bytes) else orjson.dumps(body))
    return str(path)


BAD_FILES: list[tuple[str, Any, str]] = [
    ("broken.json", b'{"resource": "Patient", "select": [', "not valid JSON: unexpected end of data: line 1 column 36 (char 35)"),
    ("list.json", [GIVEN], "a ViewDefinition must be a JSON object, got list"),
    ("bundle.json", {**GIVEN, "resourceType": "Bundle"}, "`resourceType` is `Bundle`; a view file holds one ViewDefinition"),
    ("Bad-Name.json", GIVEN, "view name 'Bad-Name' cannot name a table; use lower-case letters, digits and `_`, "
                             "starting with a letter (set `name` in the file, or rename the file)"),
    ("mine.json", {**GIVEN, "name": "patient"}, "`patient` is the name of a shipped view; give yours another `name` (e.g. `my_patient`)"),
    ("person.json", GIVEN, "`person` is the name of a shipped view; give yours another `name` (e.g. `my_person`)"),
    ("no_select.json", {"resource": "Patient"}, "select: must be a non-empty list of selects"),
    ("bad_path.json", {"resource": "Patient", "select": [{"column": [{"name": "g", "path": "name.where(use ="}]}]},
     "select[0].column[0].path: expected a name, literal or '(', found end of expression at position 16 in FHIRPath `name.where(use =`"),
]


@pytest.mark.parametrize(("file", "body", "message"), BAD_FILES, ids=[f for f, _, _ in BAD_FILES])
def test_a_bad_file_is_rejected_with_its_name_and_the_others_load(tmp_path: Path, file: str, body: Any, message: str) -> None:
    good = write(tmp_path, "heart_rate.json", HEART_RATE)
    bad = write(tmp_path, file, body)
    found = load_views_dir(tmp_path)
    assert found.views == {"heart_rate": HEART_RATE}
    assert found.files == {"heart_rate": good}
    assert found.rejected == {bad: f"{bad}: {message}"}


def test_two_files_may_not_define_one_name(tmp_path: Path) -> None:
    first = write(tmp_path, "a.json", HEART_RATE)
    second = write(tmp_path, "b.json", HEART_RATE)
    found = load_views_dir(tmp_path)
    assert list(found.views) == ["heart_rate"]
    assert found.rejected == {
        second: f"{second}: view `heart_rate` is already defined in {first}; view names must be unique"
    }


def test_name_comes_from_the_file_when_the_view_has_none(tmp_path: Path) -> None:
    write(tmp_path, "patient_ids.json", GIVEN)
    assert list(load_views_dir(tmp_path).views) == ["patient_ids"]


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_views_dir(tmp_path / "nope")
    assert str(e.value) == (
        f"views folder `{tmp_path / 'nope'}` does not exist; create it or fix `views_dir` in the project file"
    )


def test_project_and_tenant_folders_tenant_wins(tmp_path: Path) -> None:
    write(tmp_path / "all", "heart_rate.json", HEART_RATE)
    write(tmp_path / "all", "ids.json", {**GIVEN, "name": "ids"})
    acme_ids = {**GIVEN, "name": "ids", "select": [{"column": [{"name": "pid", "path": "id"}]}]}
    write(tmp_path / "acme", "ids.json", acme_ids)
    project = parse_config(
        "lake: ./lake\nviews_dir: all\ntenants:\n  - name: acme\n    views_dir: acme\n  - name: beta\n",
        path=str(tmp_path / "medlake.yaml"),
    )
    acme = tenant_views(project, "acme")
    assert acme.views == {"heart_rate": HEART_RATE, "ids": acme_ids}
    assert acme.files["ids"] == str(tmp_path / "acme" / "ids.json")
    assert tenant_views(project, "beta").views == {"heart_rate": HEART_RATE, "ids": {**GIVEN, "name": "ids"}}
    assert tenant_views(parse_config("tenants: [{name: x}]\n", path=str(tmp_path / "m.yaml")), "x") == UserViews()


# -- materialized by the pipeline's view step -------------------------------------------------


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> TenantLake:
    out = tmp_path_factory.mktemp("user_views")
    generate(out, 5, seed=3)
    project = load_config(out / "medlake.yaml")
    run(project, "demo", stages=("land", "bronze", "silver"), workers=1)
    return open_lake(project, "demo")


@pytest.fixture(scope="module")
def built(lake: TenantLake, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("views")
    write(folder, "heart_rate.json", HEART_RATE)
    write(folder, "all_given.json", {"resource": "Patient", "select": [{"column": [{"name": "g", "path": "name.given"}]}]})
    write(folder, "broken.json", b"{")
    details: dict[str, Any] = {}
    build_views(lake, RunLog(lake, new_run_id()), NullReporter(), details, load_views_dir(folder))
    details["folder"] = str(folder)
    return details


@pytest.fixture(scope="module")
def sql(lake: TenantLake, built: dict[str, Any]) -> Iterator[Any]:
    con = connect(lake, gold=False)
    yield con
    con.close()


@pytest.mark.slow
def test_user_view_becomes_a_table_and_views_name(sql: Any, built: dict[str, Any]) -> None:
    expected = sql.execute(
        "SELECT id, patient_id, value_number FROM views.observation WHERE code = '8867-4' AND parent_id IS NULL ORDER BY id"
    ).fetchall()
    assert len(expected) > 5
    assert sql.execute("SELECT id, patient_id, bpm FROM views.heart_rate ORDER BY id").fetchall() == expected
    assert built["views"]["heart_rate"] == len(expected)
    assert [d[0] for d in sql.execute("SELECT * FROM views.heart_rate LIMIT 0").description] == ["id", "patient_id", "bpm"]


@pytest.mark.slow
def test_bad_views_are_reported_and_the_rest_is_built(built: dict[str, Any]) -> None:
    folder = built["folder"]
    assert built["views_rejected"] == {
        f"{folder}/broken.json": f"{folder}/broken.json: not valid JSON: unexpected end of data: line 1 column 2 (char 1)",
        f"{folder}/all_given.json": f"{folder}/all_given.json: view `all_given` failed while running: column `g` path "
        "`name.given` yielded more than one value; set `collection: true` or narrow the path (e.g. with first())",
    }
    assert "all_given" not in built["views"]
    # the shipped views without hand SQL are built beside the flat ones
    assert {"patient", "observation", "diagnostic_report", "location", "heart_rate"} <= set(built["views"])


@pytest.mark.slow
def test_the_lake_records_the_definitions_and_as_of_recomputes_them(lake: TenantLake, built: dict[str, Any]) -> None:
    stored = stored_definitions(lake)
    assert sorted(stored) == ["diagnostic_report", "heart_rate", "location"]
    assert stored["heart_rate"] == HEART_RATE
    now = connect_as_of(lake, datetime.now(UTC))
    then = connect_as_of(lake, datetime(2000, 1, 1, tzinfo=UTC))
    try:
        assert now.execute("SELECT count(*) FROM views.heart_rate").fetchall() == [(built["views"]["heart_rate"],)]
        assert then.execute("SELECT count(*) FROM views.heart_rate").fetchall() == [(0,)]  # nothing recorded yet then
        assert then.execute("SELECT count(*) FROM views.diagnostic_report").fetchall() == [(0,)]
    finally:
        now.close()
        then.close()


@pytest.mark.slow
def test_run_summary_lists_views_not_built(built: dict[str, Any]) -> None:
    from rich.console import Console

    from medlake.cli.output import summary_tables

    summary = RunSummary("r1", "demo", "/lake", [StageResult("gold", 1.0, {"views": {"heart_rate": 3}, "views_rejected": built["views_rejected"]})])
    console = Console(record=True, width=400)
    for table in summary_tables(summary):
        console.print(table)
    text = console.export_text()
    assert "views not built (fix the file; the other views were built)" in text
    assert "view `all_given` failed while running" in text
    assert "views.heart_rate" in text
