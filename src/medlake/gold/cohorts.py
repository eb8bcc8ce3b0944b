"""Cohorts defined in YAML, without SQL: load, validate, compile to DuckDB SQL, materialize.

A tenant's `cohorts_dir` (see `TenantConfig.cohorts_dir`) holds one cohort per `*.yaml` /
`*.yml` file:

    name: uncontrolled_diabetes_adults      # a-z, 0-9 and `_`, starting with a letter
    description: Adults 18-75 with diabetes whose latest HbA1c is above 9 %
    include:                                # every rule must hold (AND)
      - condition: {icd10: [E10, E11, E13]} # ICD-10-CM prefixes, dots ignored
      - observation: {loinc: [4548-4], compare: ">", value: 9, latest: true}
      - age: {min: 18, max: 75}
    exclude:                                # any rule that holds excludes (OR)
      - condition: {icd10: [Z51.5]}

Rules: `condition: {icd10}`, `observation: {loinc, compare, value, latest}`,
`medication: {rxnorm}`, `age: {min, max}` (years at as_of), `sex: [female, male, other,
unknown]` and `any: [<condition|observation|medication rule>, ...]` (one of them holds).
`load_cohorts_dir` validates every file and raises `CohortError` naming the file, the key and
why; `compile_cohort` turns a cohort into one SELECT over the gold marts (fct_conditions,
fct_observations, fct_medications, patient_360, cohort_attribution) and `materialize` writes
all of them into `gold.cohort_custom_members` (created, empty, when there are none).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medlake.errors import ConfigError

log = logging.getLogger(__name__)

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BUILT_IN = ("diabetes", "hypertension", "chf", "copd", "ckd", "depression", "asthma")
COMPARE_OPS = ("<", "<=", "=", "!=", ">=", ">")
SEXES = ("female", "male", "other", "unknown")
TABLE = "cohort_custom_members"
COLUMNS = (
    "person_id", "cohort", "onset_date", "evidence_code", "evidence_source",
    "risk_stratum", "attributed_payer", "attributed_provider",
)  # fmt: skip

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
_CODE_KEYS = {"condition": "icd10", "observation": "loinc", "medication": "rxnorm"}
_RULE_KEYS = ("condition", "observation", "medication", "age", "sex", "any")


class CohortError(ConfigError):
    """A cohort YAML file is invalid; the message names the file, the key and why."""


@dataclass(frozen=True)
class CodeRule:
    """A condition, observation or medication rule: any of `codes` (plus a value test)."""

    kind: str  # condition | observation | medication
    codes: tuple[str, ...]
    compare: str | None = None
    value: float | None = None
    latest: bool = False


@dataclass(frozen=True)
class AgeRule:
    min_years: int | None
    max_years: int | None


@dataclass(frozen=True)
class SexRule:
    sexes: tuple[str, ...]


@dataclass(frozen=True)
class AnyRule:
    rules: tuple[CodeRule, ...]


Rule = CodeRule | AgeRule | SexRule | AnyRule


@dataclass(frozen=True)
class Cohort:
    """One validated YAML cohort."""

    name: str
    description: str
    include: tuple[Rule, ...]
    exclude: tuple[Rule, ...]
    file: str


def _fail(file: str, key: str, why: str) -> CohortError:
    return CohortError(f"{file}: {key}: {why}", file=file, key=key)


def _codes(file: str, key: str, raw: Any) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str | int) and not isinstance(raw, bool) else raw
    if not isinstance(items, list) or not items:
        raise _fail(file, key, "must be a code or a non-empty list of codes")
    out: list[str] = []
    for item in items:
        code = str(item) if isinstance(item, str | int) and not isinstance(item, bool) else None
        if code is None or not _CODE.match(code):
            raise _fail(file, key, f"{item!r} is not a code (letters, digits, `.` and `-`)")
        out.append(code)
    return tuple(out)


def _mapping(file: str, key: str, raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(file, key, "must be a mapping")
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise _fail(file, key, f"unknown key `{unknown[0]}` (allowed: {', '.join(allowed)})")
    return raw


def _code_rule(file: str, key: str, kind: str, raw: Any) -> CodeRule:
    code_key = _CODE_KEYS[kind]
    allowed = (code_key, "compare", "value", "latest") if kind == "observation" else (code_key,)
    body = _mapping(file, key, raw, allowed)
    if code_key not in body:
        raise _fail(file, key, f"`{code_key}` is required")
    codes = _codes(file, f"{key}.{code_key}", body[code_key])
    if kind == "condition":
        codes = tuple(c.replace(".", "").upper() for c in codes)
    compare = body.get("compare")
    value = body.get("value")
    latest = body.get("latest", False)
    if compare is not None and compare not in COMPARE_OPS:
        raise _fail(file, f"{key}.compare", f"must be one of {', '.join(COMPARE_OPS)}; got {compare!r}")
    if (compare is None) != (value is None):
        raise _fail(file, key, "`compare` and `value` go together: give both or neither")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _fail(file, f"{key}.value", f"must be a number; got {value!r}")
    if not isinstance(latest, bool):
        raise _fail(file, f"{key}.latest", f"must be true or false; got {latest!r}")
    return CodeRule(kind, codes, compare, float(value) if value is not None else None, latest)


def _rule(file: str, key: str, raw: Any, nested: bool = False) -> Rule:
    kinds = ("condition", "observation", "medication") if nested else _RULE_KEYS
    if not isinstance(raw, dict) or len(raw) != 1:
        raise _fail(file, key, f"must be a mapping with exactly one of: {', '.join(kinds)}")
    kind, body = next(iter(raw.items()))
    if kind not in kinds:
        raise _fail(file, key, f"unknown rule `{kind}` (one of: {', '.join(kinds)})")
    where = f"{key}.{kind}"
    if kind in _CODE_KEYS:
        return _code_rule(file, where, kind, body)
    if kind == "age":
        age = _mapping(file, where, body, ("min", "max"))
        bounds = {k: age.get(k) for k in ("min", "max")}
        for k, v in bounds.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise _fail(file, f"{where}.{k}", f"must be a whole number of years >= 0; got {v!r}")
        lo, hi = bounds["min"], bounds["max"]
        if lo is None and hi is None:
            raise _fail(file, where, "give `min`, `max` or both")
        if lo is not None and hi is not None and lo > hi:
            raise _fail(file, where, f"`min` ({lo}) is greater than `max` ({hi})")
        return AgeRule(lo, hi)
    if kind == "sex":
        values = [body] if isinstance(body, str) else body
        if not isinstance(values, list) or not values:
            raise _fail(file, where, f"must be one or a list of: {', '.join(SEXES)}")
        for v in values:
            if v not in SEXES:
                raise _fail(file, where, f"{v!r} is not one of: {', '.join(SEXES)}")
        return SexRule(tuple(values))
    if not isinstance(body, list) or not body:
        raise _fail(file, where, "must be a non-empty list of condition/observation/medication rules")
    children = tuple(_rule(file, f"{where}[{i}]", item, nested=True) for i, item in enumerate(body))
    return AnyRule(tuple(c for c in children if isinstance(c, CodeRule)))


def parse_cohort(data: Any, file: str) -> Cohort:
    """Validate one cohort document (already YAML-parsed); `file` names it in errors."""
    top = _mapping(file, "(top level)", data, ("name", "description", "include", "exclude"))
    name = top.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(file, "name", f"must be lower-case letters, digits and `_`, starting with a letter; got {name!r}")
    if name in BUILT_IN:
        raise _fail(file, "name", f"`{name}` is a built-in cohort (gold.cohort_members); choose another name")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise _fail(file, "description", "must be text")
    include = top.get("include")
    if not isinstance(include, list) or not include:
        raise _fail(file, "include", "must be a non-empty list of rules")
    exclude = top.get("exclude", [])
    if not isinstance(exclude, list):
        raise _fail(file, "exclude", "must be a list of rules")
    inc = tuple(_rule(file, f"include[{i}]", r) for i, r in enumerate(include))
    if not any(isinstance(r, CodeRule | AnyRule) for r in inc):
        raise _fail(file, "include", "needs at least one condition, observation, medication or any rule")
    exc = tuple(_rule(file, f"exclude[{i}]", r) for i, r in enumerate(exclude))
    return Cohort(name, description, inc, exc, file)


def load_cohort_file(path: Path) -> Cohort:
    """Read and validate one YAML cohort file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise _fail(path.name, where, f"not valid YAML ({getattr(e, 'problem', None) or type(e).__name__})") from None
    return parse_cohort(data, path.name)


def load_cohorts_dir(folder: str | Path) -> list[Cohort]:
    """Every cohort of `folder` (`*.yaml`, `*.yml`, sorted by file name); names must be unique."""
    root = Path(folder)
    if not root.is_dir():
        raise CohortError(f"cohorts_dir `{root}` is not a folder", file=str(root), key="cohorts_dir")
    cohorts: list[Cohort] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        cohort = load_cohort_file(path)
        if cohort.name in seen:
            raise _fail(path.name, "name", f"`{cohort.name}` is already defined in {seen[cohort.name]}")
        seen[cohort.name] = path.name
        cohorts.append(cohort)
    return cohorts


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(codes: tuple[str, ...]) -> str:
    return "(" + ", ".join(_lit(c) for c in codes) + ")"


def _code_sql(rule: CodeRule) -> str:
    """(person_id, event_date, evidence_code, evidence_source) rows the rule finds."""
    if rule.kind == "condition":
        prefixes = " or ".join(f"starts_with(upper(replace(_c, '.', '')), {_lit(p)})" for p in rule.codes)
        return (
            "select person_id, cast(coalesce(onset_at, recorded_at) as date) as event_date, "
            "_c as evidence_code, source as evidence_source from ("
            f"select *, code as _c from fct_conditions where code_system = {_lit(ICD10)} "
            f"union all select *, source_code from fct_conditions where source_code_system = {_lit(ICD10)}"
            ") as c where person_id is not null "
            "and coalesce(verification_status not in ('refuted', 'entered-in-error'), true) "
            f"and ({prefixes})"
        )
    if rule.kind == "medication":
        return (
            "select person_id, cast(event_at as date) as event_date, "
            "coalesce(case when code_system = " + _lit(RXNORM) + " then code end, source_code) as evidence_code, "
            "source as evidence_source from fct_medications where person_id is not null and ("
            f"(code_system = {_lit(RXNORM)} and code in {_in(rule.codes)}) or "
            f"(source_code_system = {_lit(RXNORM)} and source_code in {_in(rule.codes)}))"
        )
    readings = (
        "select person_id, effective_at, observation_id, value_number, code, source from fct_observations "
        f"where person_id is not null and code_system = {_lit(LOINC)} and code in {_in(rule.codes)} "
        "and coalesce(status, '') not in ('entered-in-error', 'cancelled')"
    )
    if rule.compare is not None:
        readings += " and value_number is not null"
    if rule.latest:
        readings += " qualify row_number() over (partition by person_id order by effective_at desc nulls last, observation_id) = 1"
    test = f" where value_number {rule.compare} {rule.value!r}" if rule.compare is not None else ""
    return (
        "select person_id, cast(effective_at as date) as event_date, code as evidence_code, "
        f"source as evidence_source from ({readings}) as o{test}"
    )


def _rule_sql(rule: Rule) -> str:
    if isinstance(rule, CodeRule):
        return _code_sql(rule)
    if isinstance(rule, AnyRule):
        return " union all ".join(f"({_code_sql(r)})" for r in rule.rules)
    if isinstance(rule, AgeRule):
        tests = ["age_years is not null"]
        if rule.min_years is not None:
            tests.append(f"age_years >= {rule.min_years}")
        if rule.max_years is not None:
            tests.append(f"age_years <= {rule.max_years}")
        cond = " and ".join(tests)
    else:
        cond = f"coalesce(gender, 'unknown') in {_in(rule.sexes)}"
    return (
        "select person_id, cast(null as date) as event_date, cast(null as varchar) as evidence_code, "
        f"cast(null as varchar) as evidence_source from patient_360 where {cond}"
    )


def compile_cohort(cohort: Cohort) -> str:
    """One SELECT (columns `COLUMNS`) over the marts of the current schema (the gold one).

    A person is in when every include rule finds them and no exclude rule does. onset_date is
    the date all the dated include rules first held: the latest of each rule's earliest date;
    the evidence is that rule's earliest evidence (ties: the first rule). Age and sex rules
    carry no date. risk_stratum is NULL (YAML cohorts are not stratified)."""
    hits = [f"select {i} as rule_no, * from ({_rule_sql(r)}) as r{i}" for i, r in enumerate(cohort.include)]
    n_inc = len(cohort.include)
    hits += [
        f"select {n_inc + i} as rule_no, * from ({_rule_sql(r)}) as x{i}" for i, r in enumerate(cohort.exclude)
    ]
    exclude = f"rule_no >= {n_inc}" if cohort.exclude else "false"
    return f"""with hits as (
    {chr(10).join(('union all ' if i else '') + h for i, h in enumerate(hits))}
),
first_per_rule as (
    select * from hits where rule_no < {n_inc}
    qualify row_number() over (
        partition by person_id, rule_no order by event_date nulls last, evidence_code, evidence_source
    ) = 1
),
included as (
    select person_id from first_per_rule group by person_id having count(*) = {n_inc}
),
excluded as (
    select distinct person_id from hits where {exclude}
),
onset as (
    select person_id, event_date as onset_date, evidence_code, evidence_source
    from first_per_rule
    where person_id in (select person_id from included)
    qualify row_number() over (
        partition by person_id order by event_date desc nulls last, rule_no
    ) = 1
)
select
    o.person_id,
    {_lit(cohort.name)} as cohort,
    o.onset_date,
    o.evidence_code,
    o.evidence_source,
    cast(null as varchar) as risk_stratum,
    a.attributed_payer,
    a.attributed_provider
from onset as o
left join cohort_attribution as a on o.person_id = a.person_id
where o.person_id not in (select person_id from excluded)"""


_EMPTY = (
    "select cast(null as varchar) as person_id, cast(null as varchar) as cohort, "
    "cast(null as date) as onset_date, cast(null as varchar) as evidence_code, "
    "cast(null as varchar) as evidence_source, cast(null as varchar) as risk_stratum, "
    "cast(null as varchar) as attributed_payer, cast(null as varchar) as attributed_provider where false"
)


def materialize_sql(cohorts: list[Cohort]) -> str:
    """The CREATE statement of `cohort_custom_members` (current schema) for `cohorts`."""
    parts = [_EMPTY] + [f"({compile_cohort(c)})" for c in cohorts]
    return f"create or replace table {TABLE} as\n" + "\nunion all\n".join(parts) + "\norder by cohort, person_id"


def materialize(db_path: str | Path, cohorts: list[Cohort], schema: str = "gold") -> dict[str, int]:
    """Write `<schema>.cohort_custom_members` into the gold DuckDB file; persons per cohort."""
    import duckdb

    con = duckdb.connect(str(db_path), config={"autoinstall_known_extensions": False,
                                                "autoload_known_extensions": False})  # fmt: skip
    try:
        catalog = con.execute("select current_database()").fetchone()
        con.execute(f'use "{catalog[0] if catalog else "gold"}"."{schema}"')
        con.execute(materialize_sql(cohorts))
        rows = con.execute(f"select cohort, count(*) from {TABLE} group by cohort").fetchall()
    finally:
        con.close()
    counts = {c.name: 0 for c in cohorts}
    counts.update({str(name): int(n) for name, n in rows})
    log.info("YAML cohorts materialized: %s", ", ".join(f"{k}={v}" for k, v in counts.items()) or "none")
    return counts
