"""What the dashboard reads from one tenant's catalog: runs, landed objects, check results.

Everything goes through one `medlake.lake.catalog.connect` session per tenant and request. A
table that does not exist yet (a lake that never ran, a feature not used) reads as empty.
Only counts, ids, statuses and the checks' own sentences and queries are read here: never a
record's values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medlake.config import ProjectConfig
from medlake.lake.catalog import _register, attach_gold, duckdb_connect
from medlake.lake.paths import TenantLake


@dataclass(frozen=True)
class LastRun:
    status: str
    started_at: datetime | None
    rows_out: int


@dataclass(frozen=True)
class Result:
    """The latest result of one check for one group (source)."""

    check_id: str
    table: str
    source: str | None
    dimension: str
    severity: str
    status: str
    failing: int
    total: int
    sentence: str
    query: str
    blocks: tuple[str, ...]
    run_id: str
    checked_at: datetime | None

    @property
    def failing_check(self) -> bool:
        """Counts against a cell: a failed or erroring check of severity error or warn."""
        return self.status in ("fail", "error") and self.severity in ("error", "warn")

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and self.severity == "error" and bool(self.blocks)


@dataclass
class TenantFacts:
    """One tenant's history as the status matrix needs it."""

    landed: dict[str, int] = field(default_factory=dict)  # source → distinct objects in the manifest
    runs: dict[tuple[str, str], LastRun] = field(default_factory=dict)  # (stage, source or "") → latest
    results: list[Result] = field(default_factory=list)  # latest per check × source
    sources_seen: set[str] = field(default_factory=set)


META = ("runs", "manifest", "quarantine", "check_results")


class Catalog:
    """One tenant's DuckDB session over what the dashboard reads: `meta.runs`, `meta.manifest`,
    `meta.quarantine`, `meta.check_results` and, with `gold`, the gold marts. Registering only
    these (not every bronze and silver table, as `medlake.lake.catalog.connect` does) keeps a
    page in the tens of milliseconds."""

    def __init__(self, project: ProjectConfig, tenant: str, *, gold: bool = False) -> None:
        self.tenant = tenant
        self.lake = TenantLake.open(project.lake_uri(), tenant, project.storage_options)
        self.con: Any = duckdb_connect()
        self.tables: set[str] = set()
        self.con.execute("CREATE SCHEMA meta")
        for name in META:
            if _register(self.con, "meta", name, self.lake.meta(name), self.lake.delta_options()):
                self.tables.add(f"meta.{name}")
        if gold:
            self.con.execute("CREATE SCHEMA gold")
            self.tables |= {f"gold.{m}" for m in attach_gold(self.con, self.lake)}

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(self, sql: str, params: list[Any] | None = None, *, needs: str) -> list[tuple[Any, ...]]:
        """The rows of `sql`, or [] when the relation it `needs` does not exist."""
        if not self.has(needs):
            return []
        return list(self.con.execute(sql, params or []).fetchall())

    def close(self) -> None:
        self.con.close()


RESULT_COLUMNS = (
    "check_id, table_name, source, dimension, severity, status, failing_rows, total_rows, sentence, query, blocks, run_id, checked_at"
)


def results_of(rows: list[tuple[Any, ...]]) -> list[Result]:
    return [
        Result(
            check_id=r[0], table=r[1] or "", source=r[2], dimension=r[3] or "", severity=r[4] or "", status=r[5] or "",
            failing=int(r[6] or 0), total=int(r[7] or 0), sentence=r[8] or "", query=r[9] or "",
            blocks=tuple(r[10] or ()), run_id=r[11] or "", checked_at=r[12],
        )
        for r in rows
    ]


def latest_results(cat: Catalog, source: str | None = None) -> list[Result]:
    """The latest result of every check × group (of one source, when given), failures first."""
    where = "where source = ?" if source is not None else ""
    sql = (
        f"select {RESULT_COLUMNS} from meta.check_results {where} "
        "qualify row_number() over (partition by check_id, coalesce(source, '') order by checked_at desc, run_id desc) = 1 "
        "order by case status when 'fail' then 0 when 'error' then 1 when 'pass' then 2 else 3 end, check_id"
    )
    return results_of(cat.rows(sql, [source] if source is not None else [], needs="meta.check_results"))


def tenant_facts(cat: Catalog) -> TenantFacts:
    facts = TenantFacts()
    for source, n in cat.rows(
        "select source, count(distinct object_sha256) from meta.manifest group by source", needs="meta.manifest"
    ):
        facts.landed[source] = int(n)
    for stage, source, status, started, rows_out in cat.rows(
        "select stage, source, status, started_at, rows_out from meta.runs "
        "qualify row_number() over (partition by stage, coalesce(source, '') order by started_at desc) = 1",
        needs="meta.runs",
    ):
        facts.runs[(stage, source or "")] = LastRun(status, started, int(rows_out or 0))
    facts.results = latest_results(cat)
    facts.sources_seen = set(facts.landed) | {s for _, s in facts.runs if s}
    return facts
