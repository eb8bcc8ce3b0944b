"""`medlake status`: per tenant and source, the last run, row counts per layer, the backlog
(objects landed but not yet in silver) and the success rate of the source's runs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from medlake.config import ProjectConfig
from medlake.lake.catalog import connect
from medlake.observability.metrics import backlog, source_success
from medlake.pipeline import open_lake


def print_status(console: Console, project: ProjectConfig, tenant: str) -> None:
    cfg = project.tenant(tenant)
    lake = open_lake(project, tenant)
    waiting = {r["source"]: r for r in backlog(lake).to_pylist()}
    success = {r["source"]: r for r in source_success(lake).to_pylist()}
    con = connect(lake)
    tables = {r[0] + "." + r[1] for r in con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()}
    t = Table(title=f"tenant {tenant}")
    widest = max((len(s.name) for s in cfg.sources), default=6)
    t.add_column("source", no_wrap=True, min_width=widest)
    for c in ("kind", "last run", "status", "objects", "bronze rows", "silver resources", "quarantined", "backlog", "runs ok"):
        t.add_column(c, justify="left" if c in ("kind", "last run", "status") else "right", overflow="fold")
    for src in cfg.sources:
        last, st = "never", ""
        if "meta.runs" in tables:
            r = con.execute(
                "select started_at, status from meta.runs where source = ? order by started_at desc limit 1", [src.name]
            ).fetchone()
            if r:
                last, st = f"{r[0]:%Y-%m-%d %H:%M:%S}Z", r[1]
        objects = _one(con, tables, "meta.manifest", "select count(distinct object_sha256) from meta.manifest where source = ?", src.name)
        bronze = sum(
            _one(con, tables, name, f'select count(*) from {name.split(".")[0]}."{name.split(".")[1]}"', None)
            for name in sorted(tables)
            if name.startswith(f"bronze.{src.name}__")
        )
        silver = sum(
            _one(con, tables, name, f"select count(*) from {name} where source = ?", src.name)
            for name in sorted(tables)
            if name.startswith("silver.") and not name.endswith("_history")
        )
        q = _one(con, tables, "meta.quarantine", "select count(*) from meta.quarantine where source = ?", src.name)
        w, ok = waiting.get(src.name), success.get(src.name)
        t.add_row(src.name, src.kind, last, st, f"{objects:,}", f"{bronze:,}", f"{silver:,}", f"{q:,}",
                  f"{w['backlog']:,}" if w else "0",
                  f"{ok['success_rate']:.0%} of {ok['runs']:,}" if ok else "")
    console.print(t)
    gold = sorted(n for n in tables if n.startswith("gold."))
    if gold:
        g = Table(title="gold")
        g.add_column("mart")
        g.add_column("rows", justify="right")
        for name in gold:
            g.add_row(name, f"{_one(con, tables, name, f'select count(*) from {name}', None):,}")
        console.print(g)


def _one(con: object, tables: set[str], name: str, query: str, param: str | None) -> int:
    if name not in tables:
        return 0
    r = con.execute(query, [param] if param is not None else []).fetchone()  # type: ignore[attr-defined]
    return int(r[0]) if r else 0
