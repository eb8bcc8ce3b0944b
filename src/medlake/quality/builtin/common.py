"""What the builtin checks share: which relations exist, counts per source, numbers in sentences."""

from __future__ import annotations

from typing import Any

from medlake.quality.model import CheckContext, Outcome


def relations(con: Any) -> set[str]:
    """Every `schema.name` of the catalog session (views and tables)."""
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {str(r[0]) for r in rows}


def columns(con: Any, relation: str) -> set[str]:
    """The column names of `relation` (empty when it does not exist)."""
    schema, name = relation.split(".", 1)
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()
    return {str(r[0]) for r in rows}


def n(x: int) -> str:
    """A count as a sentence shows it: `1,204`."""
    return f"{x:,}"


def pct(failing: int, total: int) -> str:
    """`3.2%` of `total` (one decimal; `0%` when nothing was looked at)."""
    return f"{100.0 * failing / total:.1f}%" if total else "0%"


def per_source(con: Any, sql: str) -> dict[str, int]:
    """`select source, count …` → {source: count} (rows with a null source are left out)."""
    return {str(s): int(c) for s, c in con.execute(sql).fetchall() if s is not None}


def tenant_sources(ctx: CheckContext) -> list[str]:
    """The names of the tenant's sources, in config order."""
    return [s.name for s in ctx.tenant.sources]


def not_applicable(query: str, why: str, group: str | None = None) -> Outcome:
    return Outcome(failing=0, total=0, query=query, group=group, sentence=why, status="not_applicable")


def quote(value: str) -> str:
    """A string as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"
