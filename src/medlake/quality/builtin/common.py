"""What the builtin checks share: which relations and columns exist, numbers in sentences, SQL literals."""

from __future__ import annotations

from typing import Any

from medlake.quality.kinds import literal
from medlake.quality.model import Outcome


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


def not_applicable(query: str, why: str, group: str | None = None) -> Outcome:
    return Outcome(failing=0, total=0, query=query, group=group, sentence=why, status="not_applicable")


def quote(value: str) -> str:
    """A string as an SQL literal (the engine's rule, `medlake.quality.kinds.literal`)."""
    return literal(value)
