"""Bad specs and their exact messages: the spec file, the line, the key, what is wrong, the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from mapping_helpers import CTX, rows_table

from medlake.errors import ConfigError, MappingError
from medlake.silver.mappings.delimited import MappingContext, load_spec, map_rows

HEAD = """\
name: bad
kinds:
  patients:
    match: ["patients*.csv"]
    columns: [Id, BIRTHDATE, GENDER]
    resources:
      - type: Patient
        id: "{Id}"
        fields:
"""
NO_COLUMNS = HEAD.replace("    columns: [Id, BIRTHDATE, GENDER]\n", "")

# (test id, spec text, line, key, message after "<file>, line N, at `key`: ")
BAD_SPECS = [
    (
        "unknown-column",
        HEAD + "          birthDate: {column: BIRTHDAY, type: date}\n",
        10,
        "kinds.patients.resources[0].fields.birthDate.column",
        "unknown column `BIRTHDAY`; did you mean `BIRTHDATE`? Columns of kind `patients`: Id, BIRTHDATE, GENDER",
    ),
    (
        "unknown-column-in-template",
        HEAD + '          name[0].family: "{LAST}"\n',
        10,
        'kinds.patients.resources[0].fields."name[0].family"',
        "unknown column `LAST`. Columns of kind `patients`: Id, BIRTHDATE, GENDER",
    ),
    (
        "bad-type-name",
        HEAD + "          birthDate: {column: BIRTHDATE, type: datetme}\n",
        10,
        "kinds.patients.resources[0].fields.birthDate.type",
        "unknown type `datetme`; did you mean `datetime`? Types: string, code, integer, decimal, boolean, date, datetime, instant",
    ),
    (
        "bad-path",
        HEAD + '          name[0.family: "{Id}"\n',
        10,
        'kinds.patients.resources[0].fields."name[0.family"',
        "bad path `name[0.family`: each step is `element` or `element[n]`, joined by dots (e.g. `name[0].given[1]`)",
    ),
    (
        "unknown-key",
        HEAD + "          gender:\n            column: GENDER\n            tipe: code\n",
        12,
        "kinds.patients.resources[0].fields.gender.tipe",
        "unknown key `tipe`; did you mean `type`? Allowed keys: column, template, type, format, map, default, strict, reference, id, source, object, when, else",
    ),
    (
        "unknown-key-top-level",
        "name: bad\nkind: {}\n",
        2,
        "kind",
        "unknown key `kind`; did you mean `kinds`? Allowed keys: name, description, kinds",
    ),
    (
        "missing-key",
        "name: bad\nkinds:\n  p:\n    match: [x]\n    resources:\n      - type: Patient\n",
        6,
        "kinds.p.resources[0].id",
        "missing required key `id`",
    ),
    (
        "unknown-resource-type",
        HEAD.replace("type: Patient", "type: Patinet") + '          gender: "{GENDER}"\n',
        7,
        "kinds.patients.resources[0].type",
        "unknown FHIR R4 resource type `Patinet`; did you mean `Patient`?",
    ),
    (
        "unbalanced-brace",
        HEAD + '          gender: "{GENDER"\n',
        10,
        "kinds.patients.resources[0].fields.gender",
        "unbalanced `{` in template `{GENDER`; write `{{` for a literal brace",
    ),
    (
        "path-conflict",
        HEAD + '          name: "{Id}"\n          name.family: "{Id}"\n',
        11,
        'kinds.patients.resources[0].fields."name.family"',
        "path `name.family` conflicts with `name`, set on line 10: an element is either one value or a list/object of sub-elements",
    ),
    (
        "reserved-element",
        HEAD + '          id: "{Id}"\n',
        10,
        "kinds.patients.resources[0].fields.id",
        "`id` is written by the engine; remove this path",
    ),
    (
        "two-sources",
        HEAD + '          gender: {column: GENDER, template: "{Id}"}\n',
        10,
        "kinds.patients.resources[0].fields.gender",
        "a value needs exactly one of `column`, `template`, `reference`, `object`; this one has `column` and `template`",
    ),
    (
        "strict-without-map",
        HEAD + "          gender: {column: GENDER, strict: true}\n",
        10,
        "kinds.patients.resources[0].fields.gender.strict",
        "`strict` needs a `map`",
    ),
    (
        "default-not-a-date",
        HEAD + "          birthDate: {column: BIRTHDATE, type: date, default: soon}\n",
        10,
        "kinds.patients.resources[0].fields.birthDate.default",
        "`soon` is not a date (tried ISO 8601, %Y%m%d, %Y%m%d%H%M%S, %m/%d/%Y, %m/%d/%Y %H:%M, %m/%d/%Y %H:%M:%S) (type `date`)",
    ),
    (
        "format-on-string",
        HEAD + "          gender: {column: GENDER, format: '%Y'}\n",
        10,
        "kinds.patients.resources[0].fields.gender.format",
        "`format` goes with type date, datetime or instant, not `string`",
    ),
    (
        "reference-without-id",
        HEAD + "          managingOrganization: {reference: Organization}\n",
        10,
        "kinds.patients.resources[0].fields.managingOrganization",
        "`reference` needs `id`: the template of the target's source id",
    ),
    (
        "else-without-when",
        HEAD + "          gender: {column: GENDER, else: unknown}\n",
        10,
        "kinds.patients.resources[0].fields.gender.else",
        "`else` needs a `when`",
    ),
    (
        "list-as-value",
        HEAD + "          gender: [a, b]\n",
        10,
        "kinds.patients.resources[0].fields.gender",
        "a value is a template string, a number, true/false or a mapping (column, template, reference, object …); got list",
    ),
]


@pytest.mark.parametrize(
    ("spec", "line", "key", "message"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS]
)
def test_bad_spec(tmp_path: Path, spec: str, line: int, key: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(spec)
    with pytest.raises(ConfigError) as info:
        load_spec(str(path))
    assert str(info.value) == f"{path}, line {line}, at `{key}`: {message}"
    assert (info.value.file, info.value.line, info.value.key) == (str(path), line, key)


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        HEAD
        + "          gender: {column: GENDR}\n          birthDate: {column: BIRTHDATE, type: dat}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_spec(str(path))
    assert str(info.value) == (
        f"2 problems in mapping spec {path}:\n"
        f"  - {path}, line 10, at `kinds.patients.resources[0].fields.gender.column`: unknown column `GENDR`; did you mean `GENDER`? Columns of kind `patients`: Id, BIRTHDATE, GENDER\n"
        f"  - {path}, line 11, at `kinds.patients.resources[0].fields.birthDate.type`: unknown type `dat`; did you mean `date`? Types: string, code, integer, decimal, boolean, date, datetime, instant"
    )
    assert len(info.value.problems) == 2


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nkinds:\n  p: [\n")
    with pytest.raises(ConfigError, match=r"bad.yaml, line 4: not valid YAML: "):
        load_spec(str(path))


def test_unknown_shipped_name_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        load_spec("synthea-cvs")
    assert str(info.value).startswith(
        "no shipped mapping spec `synthea-cvs`; did you mean `synthea-csv`? Shipped specs: "
    )
    assert "synthea-csv" in str(info.value)
    assert str(info.value).endswith("To use your own, give a path to its YAML file.")


def test_missing_spec_file() -> None:
    with pytest.raises(ConfigError, match=r"mapping spec file `nowhere/x.yaml` does not exist"):
        load_spec("nowhere/x.yaml")


def test_unknown_column_without_columns_fails_at_first_row(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(NO_COLUMNS + '          name[0].family: "{LAST}"\n')
    spec = load_spec(str(path))  # no `columns:` → cannot be checked when loading
    table = rows_table([{"Id": "1", "FIRST": "A"}])
    with pytest.raises(MappingError) as info:
        map_rows(spec, "patients", table, CTX)
    assert str(info.value) == (
        "kind `patients` of mapping spec `bad` reads column(s) `LAST` that the file does not "
        "have; its columns are: Id, FIRST"
    )
    assert info.value.missing == ["LAST"]
    # an empty file has no first row: nothing to report
    assert map_rows(spec, "patients", rows_table([]), CTX).resources == []


def test_declared_column_missing_from_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + '          gender: "{GENDER}"\n')
    spec = load_spec(str(path))
    with pytest.raises(
        MappingError,
        match=r"reads column\(s\) `BIRTHDATE`, `GENDER` that the file does not have; its columns are: id",
    ):
        map_rows(spec, "patients", rows_table([{"id": "1"}]), CTX)


def test_columns_match_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(NO_COLUMNS + '          gender: "{gender}"\n')
    out = map_rows(load_spec(str(path)), "patients", rows_table([{"ID": "1", "Gender": "x"}]), CTX)
    assert out.resources[0].resource["gender"] == "x"


def test_unknown_reference_source(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        NO_COLUMNS + '          link[0].other: {reference: Patient, id: "{Id}", source: labs}\n'
    )
    spec = load_spec(str(path))
    with pytest.raises(MappingError) as info:
        map_rows(spec, "patients", rows_table([{"Id": "1"}]), CTX)
    assert str(info.value) == (
        "mapping spec `bad` refers to source `labs`, which tenant `acme` does not have; "
        "did you mean `lab`? Its other sources: lab"
    )


def test_unknown_kind_and_bad_timezone(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(NO_COLUMNS + '          gender: "{Id}"\n')
    spec = load_spec(str(path))
    with pytest.raises(
        ConfigError,
        match=r"mapping spec `bad` has no kind `patient`; did you mean `patients`\? Kinds: patients",
    ):
        map_rows(spec, "patient", rows_table([{"Id": "1"}]), CTX)
    ctx = MappingContext("acme", "clinic", "urn:x", "America/Chicgo")
    with pytest.raises(
        ConfigError,
        match=r"time zone of source `clinic`: `America/Chicgo` is not an IANA time zone",
    ):
        map_rows(spec, "patients", rows_table([{"Id": "1"}]), ctx)
