"""Each check kind compiled to DuckDB SQL: failing and total rows per group, and a query that
shows the failing rows.

A kind is a *violation predicate* over the rows of `spec.table` (`birth_date IS NULL`), except
`sql` (the user writes the SELECT of the violating rows) and `row_count` (one verdict per
group). Builtins are Python functions (`medlake.quality.model.builtin`), run by `run.py`.
Identifiers were validated by the loader (plain names), values are quoted as SQL literals.
"""

from __future__ import annotations

from typing import Any

from medlake.quality.model import CheckSpec, Outcome


def literal(value: Any) -> str:
    """A value as an SQL literal (strings quoted, numbers as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def predicate(spec: CheckSpec) -> str:
    """The condition a violating row meets (row kinds only)."""
    col = spec.column
    p = spec.params
    if spec.kind == "not_null":
        return f"{col} is null"
    if spec.kind == "unique":
        return f"{col} in (select {col} from {spec.table} group by {col} having count(*) > 1)"
    if spec.kind == "accepted_values":
        return f"{col} is not null and {col} not in ({', '.join(literal(v) for v in p['values'])})"
    if spec.kind == "between":
        parts = []
        if p.get("min") is not None:
            parts.append(f"{col} < {literal(p['min'])}")
        if p.get("max") is not None:
            parts.append(f"{col} > {literal(p['max'])}")
        return " or ".join(parts) if len(parts) == 1 else f"({' or '.join(parts)})"
    if spec.kind == "regex":
        return f"{col} is not null and not regexp_full_match(cast({col} as varchar), {literal(p['pattern'])})"
    if spec.kind == "relationship":
        schema, rel, tcol = str(p["to"]).split(".")
        return f"{col} is not null and {col} not in (select {tcol} from {schema}.{rel} where {tcol} is not null)"
    raise ValueError(f"kind `{spec.kind}` has no row predicate")


def _group_filter(spec: CheckSpec, group: str | None) -> str:
    if spec.by is None:
        return ""
    return f" and {spec.by} is null" if group is None else f" and {spec.by} = {literal(group)}"


def _where(spec: CheckSpec) -> str:
    w = spec.params.get("where")
    return f" and ({w})" if w else ""


def relations(spec: CheckSpec) -> list[str]:
    """The relations a check reads (each must exist, else the check is not applicable)."""
    rels = [spec.table]
    if spec.kind == "relationship":
        schema, rel, _col = str(spec.params["to"]).split(".")
        rels.append(f"{schema}.{rel}")
    return rels


def run_kind(con: Any, spec: CheckSpec) -> list[Outcome]:
    """Run one non-builtin check: one `Outcome` per group (one when not split `by`)."""
    if spec.kind == "sql":
        return _run_sql(con, spec)
    if spec.kind == "row_count":
        return _run_row_count(con, spec)
    pred = predicate(spec)
    grp = spec.by or "null"
    where = spec.params.get("where")
    rows = con.execute(
        f"select {grp} as grp, count(*) filter (where {pred}) as failing, count(*) as total "
        f"from {spec.table}{f' where ({where})' if where else ''} group by all order by grp nulls last"
    ).fetchall()
    if not rows:
        rows = [(None, 0, 0)] if spec.by is None else []
    out = []
    for g, failing, total in rows:
        group = None if g is None else str(g)
        query = f"select * from {spec.table} where {pred}{_where(spec)}{_group_filter(spec, group)}"
        out.append(Outcome(failing=int(failing), total=int(total), query=query, group=group))
    if not out:  # split by a column, but no rows at all
        out.append(Outcome(failing=0, total=0, query=f"select * from {spec.table} where {pred}{_where(spec)}"))
    return out


def _counts(con: Any, sql: str, by: str | None) -> dict[str | None, int]:
    if by is None:
        row = con.execute(f"select count(*) from ({sql}) as t").fetchone()
        return {None: int(row[0]) if row else 0}
    return {
        (None if g is None else str(g)): int(n)
        for g, n in con.execute(f"select {by}, count(*) from ({sql}) as t group by all").fetchall()
    }


def _run_sql(con: Any, spec: CheckSpec) -> list[Outcome]:
    sql = str(spec.params["sql"]).strip().rstrip(";")
    total_sql = spec.params.get("total_sql")
    where = spec.params.get("where")
    base = str(total_sql).strip().rstrip(";") if total_sql else (
        f"select * from {spec.table}" + (f" where ({where})" if where else ""))
    failing = _counts(con, sql, spec.by)
    totals = _counts(con, base, spec.by)
    groups = sorted(set(totals) | set(failing), key=lambda g: (g is None, g or ""))
    out = []
    for g in groups:
        query = sql if spec.by is None else f"select * from ({sql}) as t where true{_group_filter(spec, g)}"
        out.append(Outcome(failing=failing.get(g, 0), total=max(totals.get(g, 0), failing.get(g, 0)), query=query, group=g))
    return out


def _run_row_count(con: Any, spec: CheckSpec) -> list[Outcome]:
    lo, hi = spec.params.get("min"), spec.params.get("max")
    where = spec.params.get("where")
    base = f"select * from {spec.table}" + (f" where ({where})" if where else "")
    counts = _counts(con, base, spec.by)
    if spec.by is not None and not counts:
        counts = {None: 0}
    out = []
    for g, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        bad = (lo is not None and n < int(lo)) or (hi is not None and n > int(hi))
        query = f"select count(*) from {spec.table} where true{_where(spec)}{_group_filter(spec, g)}"
        out.append(Outcome(failing=1 if bad else 0, total=n, query=query, group=g, status="fail" if bad else "pass"))
    return out
