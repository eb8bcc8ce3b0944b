"""Loading check YAML: the format, precedence (shipped < project < tenant) and exact errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from check_lake import write_project

from medlake.errors import ConfigError
from medlake.quality import load_checks, load_file, parse_checks
from medlake.quality.load import shipped_dir

GOOD = """\
checks:
  - id: patient.birth_date.not_null
    table: views.patient
    kind: not_null
    column: birth_date
    by: source
    category: completeness
    severity: error
    threshold_pct: 5
    subject: patients
    blocks: [quality_measure_results]
  - id: encounter.custom
    table: views.encounter
    kind: sql
    sql: select * from views.encounter where period_end < period_start
    category: plausibility
"""


def test_a_good_file_gives_specs_with_defaults() -> None:
    first, second = parse_checks(__import__("yaml").safe_load(GOOD), "good.yaml")
    assert first.id == "patient.birth_date.not_null"
    assert (first.table, first.kind, first.column, first.by) == ("views.patient", "not_null", "birth_date", "source")
    assert (first.category, first.dimension, first.severity, first.threshold_pct) == ("completeness", "completeness", "error", 5.0)
    assert first.blocks == ("quality_measure_results",)
    assert first.subject == "patients" and first.origin == "good.yaml"
    # defaults: warn, 0 %, dimension from the category (plausibility counts as accuracy), subject `rows`
    assert (second.severity, second.threshold_pct, second.dimension, second.subject) == ("warn", 0.0, "accuracy", "rows")
    assert second.params == {"sql": "select * from views.encounter where period_end < period_start"}


def _one(body: str) -> str:
    return "checks:\n  - " + body.strip().replace("\n", "\n    ") + "\n"


BASE = "id: a.b\ntable: views.patient\ncategory: completeness\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n", "bad.yaml: a check file is a mapping with one key, `checks` (a list of checks)"),
        ("checks: 3\n", "bad.yaml: `checks` must be a list of checks"),
        ("checks: [3]\n", "bad.yaml: check #1: a check is a mapping of keys (id, table, kind, …)"),
        (_one("id: a.b\ntable: views.patient\ncategory: completeness"), "bad.yaml: check #1 (`a.b`): `kind` is required"),
        (_one(BASE + "kind: not_nul\ncolumn: x"),
         "bad.yaml: check #1 (`a.b`): `kind` is `not_nul`; kinds are: not_null, unique, accepted_values, between, "
         "regex, relationship, row_count, sql, builtin; did you mean `not_null`?"),
        (_one(BASE + "kind: not_null\ncolumn: x\nseverty: error"),
         "bad.yaml: check #1 (`a.b`): `severty` is not a key of a `not_null` check; keys are: id, table, kind, "
         "column, by, category, dimension, severity, threshold_pct, subject, blocks, description, problem, where; "
         "did you mean `severity`?"),
        (_one(BASE + "kind: not_null"), "bad.yaml: check #1 (`a.b`): `column` is required for kind `not_null`"),
        (_one(BASE + "kind: accepted_values\ncolumn: g"), "bad.yaml: check #1 (`a.b`): `values` is required for kind `accepted_values`"),
        (_one(BASE + "kind: between\ncolumn: g"), "bad.yaml: check #1 (`a.b`): `min` or `max` is required for kind `between`"),
        (_one("id: a.b\ntable: patient\ncategory: completeness\nkind: not_null\ncolumn: x"),
         "bad.yaml: check #1 (`a.b`): `table` must be a relation `schema.name` of the catalog, e.g. `views.patient`"),
        (_one(BASE.replace("completeness", "completenes") + "kind: not_null\ncolumn: x"),
         "bad.yaml: check #1 (`a.b`): `category` is `completenes`; categories are: conformance, completeness, "
         "plausibility; did you mean `completeness`?"),
        (_one(BASE + "kind: not_null\ncolumn: x\nseverity: fatal"),
         "bad.yaml: check #1 (`a.b`): `severity` is `fatal`; severities are: error, warn, info"),
        (_one(BASE + "kind: not_null\ncolumn: x\nthreshold_pct: 120"),
         "bad.yaml: check #1 (`a.b`): `threshold_pct` must be a number from 0 to 100 (percent of rows tolerated)"),
        (_one(BASE + "kind: not_null\ncolumn: x\nblocks: [patient 360]"),
         "bad.yaml: check #1 (`a.b`): `blocks` must be a list of gold mart names, e.g. [quality_measure_results]"),
        (_one(BASE + "kind: not_null\ncolumn: x\nblocks: [patient360]"),
         "bad.yaml: check #1 (`a.b`): `blocks` names `patient360`, not a model of the gold project; did you mean `patient_360`?"),
        (_one(BASE + "kind: relationship\ncolumn: x\nto: views.patient"),
         "bad.yaml: check #1 (`a.b`): `to` must name a column as `schema.relation.column`, e.g. `views.patient.id`"),
        (_one(BASE + "kind: regex\ncolumn: x\npattern: '[a-'"), "bad.yaml: check #1 (`a.b`): `pattern` is not a valid regular expression"),
        (_one(BASE + "kind: not_null\ncolumn: 'x; drop'"), "bad.yaml: check #1 (`a.b`): `column` must be a column name (letters, digits, `_`)"),
        (_one(BASE + "kind: not_null\ncolumn: x") + "  - " + BASE.strip().replace("\n", "\n    ") + "\n    kind: unique\n    column: x\n",
         "bad.yaml: check #2 (`a.b`): id `a.b` is used twice in this file"),
        ("checks:\n  - id: [\n", "bad.yaml: not valid YAML at line 3"),
    ],
)
def test_bad_files_name_file_check_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_file(path)
    assert e.value.message == message


def test_builtin_kind_takes_any_parameter() -> None:
    (spec,) = parse_checks(
        {"checks": [{"id": "x.fresh", "table": "meta.manifest", "kind": "builtin", "builtin": "freshness",
                     "category": "completeness", "dimension": "timeliness", "hours": 48}]}, "b.yaml")
    assert spec.params == {"builtin": "freshness", "hours": 48}
    assert spec.dimension == "timeliness"


def test_shipped_checks_load_and_a_tenant_file_replaces_one_by_id(tmp_path: Path) -> None:
    project = write_project(tmp_path, checks=(
        "checks:\n  - id: patient.birth_date.not_null\n    table: views.patient\n    kind: not_null\n"
        "    column: birth_date\n    category: completeness\n    severity: error\n    blocks: [patient_360]\n"
        "  - id: my.own\n    table: views.patient\n    kind: row_count\n    min: 10\n    category: completeness\n"))
    specs = {s.id: s for s in load_checks(project, "t")}
    assert (shipped_dir() / "silver.yaml").is_file()
    assert "encounter.patient_id.relationship" in specs  # shipped
    replaced = specs["patient.birth_date.not_null"]
    assert (replaced.severity, replaced.blocks, replaced.origin, replaced.by) == ("error", ("patient_360",), "test.yaml", None)
    assert specs["my.own"].params == {"min": 10}
    ids = [s.id for s in load_checks(project, "t")]
    assert len(ids) == len(set(ids))


def test_a_missing_checks_dir_is_an_error(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    (tmp_path / "checks").rmdir()
    with pytest.raises(ConfigError) as e:
        load_checks(project, "t")
    assert e.value.message == f"checks_dir `./checks` of the tenant t is not a folder (looked at `{tmp_path / 'checks'}`)"
