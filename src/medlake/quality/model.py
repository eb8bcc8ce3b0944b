"""The data model of data-quality checks: a check's spec, its result, and the results table.

A check is data (YAML, see docs/quality.md): it tests one property of one relation of the
tenant's catalog (`bronze.*`, `silver.*`, `views.*`, `meta.*`, `identity.*`), has a category
from the OHDSI Data Quality Dashboard taxonomy, a score dimension, a threshold (the percentage
of violating rows tolerated), a severity and the gold marts it blocks. Running it gives one
`CheckResult` per group (per source when the check is split `by` a column, else one).

Built-in checks (truncation, freshness, reconciliation …) are Python functions registered
with `builtin(name)`; YAML names them with `kind: builtin` and `builtin: <name>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

    from medlake.config import ProjectConfig, TenantConfig
    from medlake.lake.paths import TenantLake

Category = Literal["conformance", "completeness", "plausibility"]
Dimension = Literal["completeness", "timeliness", "accuracy", "conformance"]
Severity = Literal["error", "warn", "info"]
Status = Literal["pass", "fail", "not_applicable", "error"]

CATEGORIES: tuple[str, ...] = ("conformance", "completeness", "plausibility")
DIMENSIONS: tuple[str, ...] = ("completeness", "timeliness", "accuracy", "conformance")
SEVERITIES: tuple[str, ...] = ("error", "warn", "info")
STATUSES: tuple[str, ...] = ("pass", "fail", "not_applicable", "error")


@dataclass(frozen=True)
class CheckSpec:
    """One declared check, as loaded from YAML (shipped defaults, then project, then tenant)."""

    id: str  # unique, dotted: `patient.birth_date.not_null`; a later file with the same id replaces it
    table: str  # the relation it reads, `views.patient`; for builtins, what it is about (`bronze`, `meta.manifest`)
    kind: str  # not_null, unique, accepted_values, between, regex, relationship, row_count, sql, builtin
    category: Category
    dimension: Dimension
    severity: Severity = "warn"
    threshold_pct: float = 0.0  # violating rows tolerated, percent of total; fail when pct > threshold_pct
    column: str | None = None
    by: str | None = None  # split results by this column of `table` (normally `source`)
    blocks: tuple[str, ...] = ()  # gold mart (dbt model) names a failing error-severity check stops
    params: dict[str, Any] = field(default_factory=dict)  # kind-specific: values, min, max, pattern, to, sql …
    description: str | None = None  # what the check is about, one line, for docs and the dashboard
    subject: str = "rows"  # the noun of the sentence: "lab-system patients", "claims" …
    origin: str = "shipped"  # the file it came from (relative), for error messages and the dashboard


@dataclass(frozen=True)
class Outcome:
    """What a check function found for one group: counts and the query that shows the failing rows."""

    failing: int
    total: int
    query: str  # SQL a user can paste into `medlake sql` to see the failing rows (or the evidence)
    group: str | None = None  # the `by` value (a source name), None when not split
    sentence: str | None = None  # overrides the generated sentence (builtins with a custom wording)
    status: Status | None = None  # overrides the threshold rule (e.g. `not_applicable`, `error`)


@dataclass(frozen=True)
class CheckResult:
    """One check × group, after the threshold and severity are applied."""

    check_id: str
    table: str
    group: str | None
    category: Category
    dimension: Dimension
    severity: Severity
    status: Status
    failing: int
    total: int
    threshold_pct: float
    sentence: str  # "`birth_date` is missing in 3.2% of lab patients (96 / 3,000)" — counts only, no values
    query: str
    blocks: tuple[str, ...]
    run_id: str = ""
    checked_at: datetime | None = None

    @property
    def pct(self) -> float:
        return 100.0 * self.failing / self.total if self.total else 0.0

    @property
    def blocking(self) -> bool:
        """A failed error-severity check stops promotion to the marts it names."""
        return self.status == "fail" and self.severity == "error" and bool(self.blocks)


@dataclass(frozen=True)
class CheckContext:
    """What a builtin check function gets: the tenant, its lake and a catalog connection."""

    project: ProjectConfig
    tenant: TenantConfig
    lake: TenantLake
    con: duckdb.DuckDBPyConnection  # `medlake.lake.catalog.connect(lake)`: bronze.*, silver.*, views.*, meta.* …
    run_id: str
    now: datetime  # the check run's clock (UTC); tests pin it


BuiltinFn = Callable[[CheckContext, CheckSpec], list[Outcome]]
_BUILTINS: dict[str, BuiltinFn] = {}


def builtin(name: str) -> Callable[[BuiltinFn], BuiltinFn]:
    """Register a builtin check function under `name` (YAML: `kind: builtin`, `builtin: name`)."""

    def register(fn: BuiltinFn) -> BuiltinFn:
        if name in _BUILTINS and _BUILTINS[name] is not fn:
            raise ValueError(f"builtin check `{name}` is registered twice")
        _BUILTINS[name] = fn
        return fn

    return register


def builtins() -> dict[str, BuiltinFn]:
    """Every registered builtin (importing `medlake.quality.builtin` registers the shipped ones)."""
    return dict(_BUILTINS)


# `_meta/check_results` (catalog: `meta.check_results`): one row per check × group × run, appended.
RESULT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("tenant", pa.string()),
        ("check_id", pa.string()),
        ("table_name", pa.string()),
        ("source", pa.string()),  # the group (`by` value), null when not split
        ("category", pa.string()),
        ("dimension", pa.string()),
        ("severity", pa.string()),
        ("status", pa.string()),
        ("failing_rows", pa.int64()),
        ("total_rows", pa.int64()),
        ("threshold_pct", pa.float64()),
        ("sentence", pa.string()),
        ("query", pa.string()),
        ("blocks", pa.list_(pa.string())),
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)
