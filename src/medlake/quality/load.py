"""Load data-quality checks from YAML: the shipped defaults, then the project's, then the tenant's.

    checks:
      - id: patient.birth_date.not_null
        table: views.patient
        kind: not_null
        column: birth_date
        by: source
        category: completeness
        severity: warn
        threshold_pct: 5

Every file is validated by hand so an error names the file, the check (index and id), the key,
what is allowed and, for a typo, the closest allowed word. A later check with the same id
replaces an earlier one (tenant over project over shipped). See docs/quality.md.
"""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from medlake.errors import ConfigError
from medlake.quality.model import CATEGORIES, DIMENSIONS, SEVERITIES, CheckSpec

if TYPE_CHECKING:
    from medlake.config import ProjectConfig

KINDS: tuple[str, ...] = (
    "not_null", "unique", "accepted_values", "between", "regex", "relationship", "row_count", "sql", "builtin",
)  # fmt: skip
BASE_KEYS: tuple[str, ...] = (
    "id", "table", "kind", "column", "by", "category", "dimension", "severity", "threshold_pct",
    "subject", "blocks", "description", "problem", "where",
)  # fmt: skip
# kind -> (required params, optional params); `builtin` also takes any further key as a parameter
KIND_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "not_null": (("column",), ()),
    "unique": (("column",), ()),
    "accepted_values": (("column", "values"), ()),
    "between": (("column",), ("min", "max")),
    "regex": (("column", "pattern"), ()),
    "relationship": (("column", "to"), ()),
    "row_count": ((), ("min", "max")),
    "sql": (("sql",), ("total_sql",)),
    "builtin": (("builtin",), ()),
}
# the score dimension a category counts towards when the check names none
DEFAULT_DIMENSION: dict[str, str] = {"completeness": "completeness", "conformance": "conformance", "plausibility": "accuracy"}

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RELATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_TO = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def shipped_dir() -> Path:
    """The folder of the shipped check files (`medlake/quality/checks/*.yaml`)."""
    return Path(str(resources.files("medlake.quality").joinpath("checks")))


def load_checks(project: ProjectConfig, tenant_name: str) -> list[CheckSpec]:
    """Every check the tenant runs: shipped files, then the project's `checks_dir`, then the
    tenant's; a later check with the same id replaces the earlier one (in its place)."""
    tenant = project.tenant(tenant_name)
    folders: list[tuple[Path, str]] = [(shipped_dir(), "shipped")]
    for where, label in ((project.checks_dir, "project"), (tenant.checks_dir, f"tenant {tenant.name}")):
        if where:
            folder = Path(project.resolve_location(where))
            if not folder.is_dir():
                raise ConfigError(
                    f"checks_dir `{where}` of the {label} is not a folder (looked at `{folder}`)", path=str(folder)
                )
            folders.append((folder, label))
    merged: dict[str, CheckSpec] = {}
    for folder, _label in folders:
        for spec in load_folder(folder):
            merged[spec.id] = spec
    return list(merged.values())


def load_folder(folder: Path) -> list[CheckSpec]:
    """The checks of every `*.yaml` / `*.yml` file of `folder`, files in name order."""
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")], key=lambda p: p.name)
    specs: list[CheckSpec] = []
    for path in files:
        specs.extend(load_file(path))
    return specs


def load_file(path: Path) -> list[CheckSpec]:
    """The checks of one YAML file; raises `ConfigError` naming the file, check and key."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path.name}: not valid YAML{where}", path=str(path)) from None
    return parse_checks(doc, path.name)


def parse_checks(doc: Any, origin: str) -> list[CheckSpec]:
    """Validate a loaded document (`{"checks": [...]}`) from file `origin`."""
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) - {"checks"}:
        raise ConfigError(f"{origin}: a check file is a mapping with one key, `checks` (a list of checks)", path=origin)
    items = doc.get("checks") or []
    if not isinstance(items, list):
        raise ConfigError(f"{origin}: `checks` must be a list of checks", path=origin)
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        spec = _parse_one(item, origin, i)
        if spec.id in seen:
            raise ConfigError(f"{origin}: check #{i + 1} (`{spec.id}`): id `{spec.id}` is used twice in this file", path=origin)
        seen.add(spec.id)
        specs.append(spec)
    return specs


@functools.cache
def _gold_models() -> tuple[str, ...]:
    from medlake.gold.runner import project_models

    return tuple(project_models())


def _hint(word: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _parse_one(item: Any, origin: str, index: int) -> CheckSpec:
    where = f"{origin}: check #{index + 1}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a check is a mapping of keys (id, table, kind, …)", path=origin)
    cid = item.get("id")
    if isinstance(cid, str) and cid:
        where += f" (`{cid}`)"

    def bad(key: str, what: str) -> ConfigError:
        return ConfigError(f"{where}: `{key}` {what}", path=origin, key=key)

    for key in ("id", "table", "kind", "category"):
        if key not in item:
            raise bad(key, "is required")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise bad("id", "must be a dotted name of letters, digits, `_` and `-` (e.g. `patient.birth_date.not_null`)")
    kind = item["kind"]
    if kind not in KINDS:
        raise bad("kind", f"is `{kind}`; kinds are: {', '.join(KINDS)}{_hint(str(kind), KINDS)}")
    required, optional = KIND_PARAMS[kind]
    allowed_keys = tuple(dict.fromkeys((*BASE_KEYS, *required, *optional)))
    for key in item:
        if key not in allowed_keys and kind != "builtin":
            raise bad(str(key), f"is not a key of a `{kind}` check; keys are: {', '.join(allowed_keys)}{_hint(str(key), allowed_keys)}")
    for key in required:
        if item.get(key) in (None, "", []):
            raise bad(key, f"is required for kind `{kind}`")
    if kind in ("between", "row_count") and item.get("min") is None and item.get("max") is None:
        raise bad("min", f"or `max` is required for kind `{kind}`")
    table = item["table"]
    if not isinstance(table, str) or (kind != "builtin" and not _RELATION.match(table)):
        raise bad("table", "must be a relation `schema.name` of the catalog, e.g. `views.patient`")
    for key in ("column", "by"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not _IDENT.match(value)):
            raise bad(key, "must be a column name (letters, digits, `_`)")
    category = item["category"]
    if category not in CATEGORIES:
        raise bad("category", f"is `{category}`; categories are: {', '.join(CATEGORIES)}{_hint(str(category), CATEGORIES)}")
    dimension = item.get("dimension", DEFAULT_DIMENSION[category])
    if dimension not in DIMENSIONS:
        raise bad("dimension", f"is `{dimension}`; dimensions are: {', '.join(DIMENSIONS)}{_hint(str(dimension), DIMENSIONS)}")
    severity = item.get("severity", "warn")
    if severity not in SEVERITIES:
        raise bad("severity", f"is `{severity}`; severities are: {', '.join(SEVERITIES)}{_hint(str(severity), SEVERITIES)}")
    threshold = item.get("threshold_pct", 0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 100:
        raise bad("threshold_pct", "must be a number from 0 to 100 (percent of rows tolerated)")
    blocks = item.get("blocks", [])
    if isinstance(blocks, str):
        blocks = [blocks]
    if not isinstance(blocks, list) or not all(isinstance(b, str) and _IDENT.match(b) for b in blocks):
        raise bad("blocks", "must be a list of gold mart names, e.g. [quality_measure_results]")
    models = _gold_models()
    for b in blocks:
        if b not in models:
            raise bad("blocks", f"names `{b}`, not a model of the gold project{_hint(b, models)}")
    for key in ("subject", "description", "problem", "where", "sql", "total_sql", "pattern", "builtin"):
        if key in item and not isinstance(item[key], str):
            raise bad(key, "must be a string")
    if kind == "accepted_values" and (not isinstance(item["values"], list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in item["values"])):
        raise bad("values", "must be a list of strings or numbers")
    for key in ("min", "max"):
        if key in item and item[key] is not None and (isinstance(item[key], bool) or not isinstance(item[key], int | float | str)):
            raise bad(key, "must be a number or a date (`2000-01-01`)")
    if kind == "row_count":
        for key in ("min", "max"):
            if key in item and item[key] is not None and (isinstance(item[key], bool) or not isinstance(item[key], int)):
                raise bad(key, "must be a whole number of rows")
    if kind == "relationship" and (not isinstance(item["to"], str) or not _TO.match(item["to"])):
        raise bad("to", "must name a column as `schema.relation.column`, e.g. `views.patient.id`")
    if kind == "regex":
        try:
            re.compile(item["pattern"])
        except re.error:
            raise bad("pattern", "is not a valid regular expression") from None
    params = {k: v for k, v in item.items() if k not in BASE_KEYS}
    params.pop("column", None)
    for key in ("problem", "where"):
        if key in item:
            params[key] = item[key]
    subject = item.get("subject") or "rows"
    return CheckSpec(
        id=cid,
        table=table,
        kind=kind,
        category=category,
        dimension=dimension,
        severity=severity,
        threshold_pct=float(threshold),
        column=item.get("column"),
        by=item.get("by"),
        blocks=tuple(blocks),
        params=params,
        description=item.get("description"),
        subject=subject,
        origin=origin,
    )
