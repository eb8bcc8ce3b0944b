"""Config: valid files load; invalid ones name the file, line and key and say what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from medlake.config import load_config, parse_config
from medlake.errors import ConfigError
from medlake.templates import EXAMPLE_CONFIG

GOOD = """\
lake: ./lake
tenants:
  - name: acme
    timezone: America/New_York
    sources:
      - name: ehr
        kind: delimited
        location: ./ehr
        mapping: medlake-ehr
        format: {delimiter: "|"}
      - name: fhir
        kind: fhir
        location: ./fhir
"""


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "medlake.yaml").write_text(GOOD)
    cfg = load_config(tmp_path / "medlake.yaml")
    t = cfg.tenant("acme")
    ehr = t.source("ehr")
    assert ehr.format.delimiter == "|" and ehr.format.header is True and ehr.format.encoding == "auto"
    assert t.zone_of(ehr) == "America/New_York"
    assert t.system_of(t.source("fhir")) == "urn:medlake:acme:fhir"
    assert cfg.lake_uri() == str((tmp_path / "lake").resolve())
    assert cfg.resolve_location("./ehr") == str((tmp_path / "ehr").resolve())


def test_example_config_written_by_init_is_valid() -> None:
    cfg = parse_config(EXAMPLE_CONFIG)
    assert [s.name for s in cfg.tenants[0].sources] == ["ehr", "synthea", "fhir_ehr", "lab"]


BAD = [
    (
        GOOD.replace('format: {delimiter: "|"}', 'format: {delimiter: "|", encoding: latin-9000}'),
        "m.yaml:10: `tenants[0].sources[0].format.encoding`: `latin-9000` is not a known encoding; "
        "use `auto` or a codec name such as `cp1252`",
    ),
    (
        GOOD.replace("kind: fhir", "kind: csv"),
        "m.yaml:12: `tenants[0].sources[1].kind`: Input should be 'delimited', 'fhir', 'hl7v2' or 'x12'; got `csv`",
    ),
    (
        GOOD.replace("    timezone: America/New_York", "    timezone: Mars/Base"),
        "m.yaml:4: `tenants[0].timezone`: `Mars/Base` is not an IANA time zone (e.g. `America/New_York`, `UTC`)",
    ),
    (
        GOOD.replace("    sources:", "    sourcez:"),
        "m.yaml:5: `tenants[0].sourcez`: unknown key `sourcez`; did you mean `sources`? Allowed keys: name, timezone, sources, terminology, identity, views_dir, cohorts_dir, value_sets_dir, checks_dir, alerts, quality_visit_classes",
    ),
    (
        GOOD.replace("        mapping: medlake-ehr\n", ""),
        "m.yaml:6: `tenants[0].sources[0]`: delimited sources need `mapping` (a shipped spec name or a YAML path)",
    ),
    (
        GOOD.replace('format: {delimiter: "|"}', "format: {header: false}"),
        "m.yaml:10: `tenants[0].sources[0].format`: `columns` is required when `header` is false",
    ),
    (
        GOOD.replace("name: fhir", "name: ehr"),
        "m.yaml:3: `tenants[0]`: source `ehr` is declared twice",
    ),
    (
        GOOD.replace("name: acme", "name: Acme Corp"),
        "m.yaml:3: `tenants[0].name`: must start with a letter and use only a-z, 0-9 and `_`",
    ),
    ("lake: [unclosed\n", "m.yaml:2: not valid YAML (expected ',' or ']', but got '<stream end>')"),
    ("- just\n- a list\n", "m.yaml:1: the top level must be a mapping with `lake` and `tenants`"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_config_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(text, path="m.yaml")
    assert str(e.value) == message


def test_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file `.*nope.yaml` not found; looked in .* Create one with `medlake init`"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_tenant_and_source_list_the_known_ones() -> None:
    cfg = parse_config(GOOD)
    with pytest.raises(ConfigError, match="no tenant `zeta`; tenants are: `acme`"):
        cfg.tenant("zeta")
    with pytest.raises(ConfigError, match="tenant `acme` has no source `lab`; its sources are: `ehr`, `fhir`"):
        cfg.tenant("acme").source("lab")


def test_config_objects_are_frozen() -> None:
    cfg = parse_config(GOOD)
    with pytest.raises(Exception, match="frozen"):
        cfg.tenants[0].name = "other"  # type: ignore[misc]


def test_identity_source_ranking_must_name_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "m.yaml"
    cfg.write_text(
        "lake: ./lake\ntenants:\n  - name: t\n    identity:\n      source_ranking: [ehr, claimz]\n"
        "    sources:\n      - {name: ehr, kind: fhir, location: ./in}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert "identity.source_ranking names `claimz`, not a source of this tenant; sources are: `ehr`" in str(e.value)


def test_quality_visit_classes_are_plain_class_codes(tmp_path: Path) -> None:
    """They reach SQL (a dbt var), so anything but a class code is refused at load."""
    path = tmp_path / "m.yaml"
    path.write_text("lake: ./lake\ntenants:\n  - name: acme\n    quality_visit_classes: [AMB, \"VR'); drop table x; --\"]\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "is not an encounter class code (letters, digits, `_` or `-`, e.g. AMB)" in e.value.message
    path.write_text("lake: ./lake\ntenants:\n  - name: acme\n    quality_visit_classes: [AMB, VR]\n")
    assert load_config(path).tenants[0].quality_visit_classes == ["AMB", "VR"]
