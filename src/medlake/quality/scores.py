"""Quality scores per source and dimension, and their trend over runs.

A score is the share of *decided* check results that pass: `100 * pass / (pass + fail)`, in
percent, per run × source × dimension. `not_applicable` and `error` results do not count (an
error is a broken check, not bad data; it is shown on its own). Results of checks that are
not split by source count under the source `(all)`. Each check result weighs the same,
whatever its row count: a 2-row feed that breaks every rule scores as badly as a big one.

    scores(lake_or_con)                 # latest run: source, dimension, passed, failed, score
    score_trend(lake_or_con, "lab")     # every run, oldest first: for charts
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from medlake.lake.paths import TenantLake

ALL_SOURCES = "(all)"

_SCORES = """
select run_id, max(checked_at) as checked_at, coalesce(source, '{all}') as source, dimension,
       count(*) filter (where status = 'pass') as passed,
       count(*) filter (where status = 'fail') as failed,
       count(*) filter (where status = 'error') as errors,
       count(*) filter (where status = 'not_applicable') as not_applicable
from meta.check_results
group by run_id, coalesce(source, '{all}'), dimension
"""


def _con(con_or_lake: Any) -> tuple[Any, bool]:
    if isinstance(con_or_lake, TenantLake):
        from medlake.lake.catalog import connect

        return connect(con_or_lake, gold=False), True
    return con_or_lake, False


def _has_results(con: Any) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'check_results'"
    ).fetchone()
    return bool(row and row[0])


_EMPTY = pa.schema([
    ("run_id", pa.string()), ("checked_at", pa.timestamp("us", tz="UTC")), ("source", pa.string()),
    ("dimension", pa.string()), ("passed", pa.int64()), ("failed", pa.int64()), ("errors", pa.int64()),
    ("not_applicable", pa.int64()), ("score", pa.float64()),
])  # fmt: skip


def _query(con_or_lake: Any, where: str, params: list[Any]) -> pa.Table:
    con, owned = _con(con_or_lake)
    try:
        if not _has_results(con):
            return _EMPTY.empty_table()
        sql = f"""
            with rolled as ({_SCORES.format(all=ALL_SOURCES)})
            select run_id, checked_at, source, dimension, passed, failed, errors, not_applicable,
                   case when passed + failed = 0 then null
                        else round(100.0 * passed / (passed + failed), 1) end as score
            from rolled where {where}
            order by checked_at, run_id, source, dimension
        """
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in cur.fetchall()], schema=_EMPTY)
    finally:
        if owned:
            con.close()


def scores(con_or_lake: Any, *, run_id: str | None = None) -> pa.Table:
    """Scores of one run (default: the latest) per source × dimension.

    Columns: run_id, checked_at, source, dimension, passed, failed, errors, not_applicable,
    score (percent of passed among passed + failed; null when nothing was decided)."""
    if run_id is not None:
        return _query(con_or_lake, "run_id = ?", [run_id])
    return _query(
        con_or_lake,
        "run_id = (select run_id from meta.check_results order by checked_at desc, run_id desc limit 1)",
        [],
    )


def score_trend(
    con_or_lake: Any, source: str | None = None, dimension: str | None = None, *, last_runs: int = 30
) -> pa.Table:
    """Scores of the last `last_runs` runs, oldest first (same columns as `scores`), for the
    dashboard's trend charts; optionally of one source and/or dimension."""
    where = [
        "run_id in (select run_id from (select run_id, max(checked_at) as t from meta.check_results "
        "group by run_id order by t desc limit ?))"
    ]
    params: list[Any] = [last_runs]
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if dimension is not None:
        where.append("dimension = ?")
        params.append(dimension)
    return _query(con_or_lake, " and ".join(where), params)
