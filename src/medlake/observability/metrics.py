"""Pipeline metrics read from the run log, the manifest, the progress marks and the quarantine.

Every function takes a `TenantLake` and returns a pyarrow table (columns documented in
docs/observability.md); a lake with nothing recorded yet gives an empty table with the same
columns. Counts and ids only, never data values.

    run_steps        per stage × table of one run: rows in/out, quarantined, duration, status
    run_history      one row per run: overall status, wall time, steps failed/blocked
    records_per_day  per day × source: objects landed, bronze records, silver resources, quarantined
    source_success   per source (optionally per day): source-runs, ok, failed, success rate
    backlog          per source: objects landed but not yet in silver, by where they wait
    backlog_objects  the waiting objects themselves (source, sha256, key, received, state)
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RUN_STAGE

TS = pa.timestamp("us", tz="UTC")

RUN_STEPS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("stage", pa.string()), ("source", pa.string()), ("table_name", pa.string()),
    ("rows_in", pa.int64()), ("rows_out", pa.int64()), ("quarantined", pa.int64()), ("status", pa.string()),
    ("started_at", TS), ("duration_s", pa.float64()), ("message", pa.string()),
])
RUN_HISTORY_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("started_at", TS), ("duration_s", pa.float64()), ("status", pa.string()),
    ("stages", pa.string()), ("steps", pa.int64()), ("failed_steps", pa.int64()), ("blocked_steps", pa.int64()),
    ("quarantined", pa.int64()),
])
RECORDS_PER_DAY_SCHEMA = pa.schema([
    ("day", pa.date32()), ("source", pa.string()), ("objects", pa.int64()), ("bronze_records", pa.int64()),
    ("silver_resources", pa.int64()), ("quarantined", pa.int64()),
])
SOURCE_SUCCESS_SCHEMA = pa.schema([
    ("source", pa.string()), ("day", pa.date32()), ("runs", pa.int64()), ("ok", pa.int64()), ("failed", pa.int64()),
    ("success_rate", pa.float64()), ("last_run_at", TS), ("last_status", pa.string()),
])
BACKLOG_SCHEMA = pa.schema([
    ("source", pa.string()), ("landed", pa.int64()), ("waiting_bronze", pa.int64()), ("no_parser", pa.int64()),
    ("waiting_silver", pa.int64()), ("backlog", pa.int64()), ("quarantined_objects", pa.int64()),
    ("oldest_waiting_at", TS),
])
BACKLOG_OBJECTS_SCHEMA = pa.schema([
    ("source", pa.string()), ("object_sha256", pa.string()), ("object_key", pa.string()), ("received_at", TS),
    ("state", pa.string()),
])

# The latest meaningful event of each landed object (a `duplicate` arrival changes nothing).
_OBJECT_STATE = """
    select source, object_sha256, min(object_key) as object_key, min(received_at) as received_at,
           arg_max(event, event_at) filter (where event <> 'duplicate') as status
    from meta.manifest group by source, object_sha256
"""
# Where an object that is not in silver yet waits: bronze parsed it (the manifest says `bronzed`
# and bronze rows carry its `_object_sha256`) but no `_meta/progress` mark of stage `silver`
# names it; or bronze has not read it (`landed`); or its source kind has no bronze parser
# (`pending`). A bronzed object without bronze rows (every record quarantined) is not backlog.
_WAITING = f"""
    with obj as ({_OBJECT_STATE}),
    silvered as ({{silvered}}),
    in_bronze as ({{in_bronze}})
    select obj.source, obj.object_sha256, obj.object_key, obj.received_at,
           case obj.status when 'landed' then 'waiting_bronze' when 'pending' then 'no_parser'
                else 'waiting_silver' end as state
    from obj
    where obj.status in ('landed', 'pending')
       or (obj.status = 'bronzed'
           and exists (select 1 from in_bronze b where b.source = obj.source and b.object_sha256 = obj.object_sha256)
           and not exists (select 1 from silvered s where s.source = obj.source and s.object_sha256 = obj.object_sha256))
"""


def _connect(lake: TenantLake) -> Any:
    from medlake.lake.catalog import connect

    return connect(lake, gold=False)


def _has(con: Any, name: str) -> bool:
    schema, view = name.split(".")
    row = con.execute(
        "select count(*) from duckdb_views() where schema_name = ? and view_name = ?", [schema, view]
    ).fetchone()
    return bool(row and row[0])


def _table(con: Any, sql: str, params: list[Any], schema: pa.Schema) -> pa.Table:
    rows = con.execute(sql, params).fetchall()
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema=schema)


def _run(lake: TenantLake, needs: str, sql: str, params: list[Any], schema: pa.Schema) -> pa.Table:
    con = _connect(lake)
    try:
        if not _has(con, needs):
            return schema.empty_table()
        return _table(con, sql, params, schema)
    finally:
        con.close()


def latest_run_id(lake: TenantLake) -> str | None:
    """The id of the most recently started run, or None when the lake has no run log."""
    t = _run(lake, "meta.runs", "select run_id, min(started_at) as started_at from meta.runs group by 1 "
             "order by 2 desc limit 1", [], pa.schema([("run_id", pa.string()), ("started_at", TS)]))
    return str(t.column("run_id")[0].as_py()) if t.num_rows else None


def run_steps(lake: TenantLake, run_id: str | None = None) -> pa.Table:
    """Per stage and table of one run (default: the latest): rows in/out, quarantined, duration, status."""
    rid = run_id or latest_run_id(lake)
    if rid is None:
        return RUN_STEPS_SCHEMA.empty_table()
    cols = ", ".join(RUN_STEPS_SCHEMA.names)
    return _run(lake, "meta.runs", f"select {cols} from meta.runs where run_id = ? and stage <> '{RUN_STAGE}' "
                "order by started_at, stage, source nulls first, table_name", [rid], RUN_STEPS_SCHEMA)


def run_history(lake: TenantLake, limit: int = 50) -> pa.Table:
    """One row per run, newest first. `status` is the run's own row (`RunLog.finish`) when it has
    one, else derived from its steps: `failed` if any failed, `blocked` if any was blocked, else `ok`."""
    sql = f"""
        select run_id, min(started_at) as started_at,
               coalesce(max(duration_s) filter (where stage = '{RUN_STAGE}'),
                        max(epoch(started_at) + duration_s) - min(epoch(started_at))) as duration_s,
               coalesce(arg_max(status, started_at) filter (where stage = '{RUN_STAGE}'),
                        case when bool_or(status = 'failed') then 'failed'
                             when bool_or(status = 'blocked') then 'blocked' else 'ok' end) as status,
               string_agg(distinct stage, ',' order by stage) filter (where stage <> '{RUN_STAGE}') as stages,
               count(*) filter (where stage <> '{RUN_STAGE}') as steps,
               count(*) filter (where stage <> '{RUN_STAGE}' and status = 'failed') as failed_steps,
               count(*) filter (where stage <> '{RUN_STAGE}' and status = 'blocked') as blocked_steps,
               coalesce(sum(quarantined) filter (where stage <> '{RUN_STAGE}'), 0) as quarantined
        from meta.runs group by run_id order by started_at desc, run_id desc limit ?
    """
    return _run(lake, "meta.runs", sql, [limit], RUN_HISTORY_SCHEMA)


def records_per_day(lake: TenantLake) -> pa.Table:
    """Per UTC day and source: objects received (manifest), bronze records and silver resources
    written and records quarantined (run log steps of stage bronze / silver), oldest day first."""
    con = _connect(lake)
    try:
        parts = []
        if _has(con, "meta.manifest"):
            parts.append("select received_at::date as day, source, count(distinct object_sha256) as objects, "
                         "0 as bronze, 0 as silver, 0 as q from meta.manifest where event = 'landed' group by 1, 2")
        if _has(con, "meta.runs"):
            parts.append("select started_at::date as day, source, 0 as objects, "
                         "sum(rows_out) filter (where stage = 'bronze') as bronze, "
                         "sum(rows_out) filter (where stage = 'silver') as silver, "
                         "sum(quarantined) as q from meta.runs where source is not null and status = 'ok' "
                         "and stage in ('bronze', 'silver') group by 1, 2")
        if not parts:
            return RECORDS_PER_DAY_SCHEMA.empty_table()
        union = " union all ".join(parts)
        sql = (f"select day, source, coalesce(sum(objects), 0)::bigint, coalesce(sum(bronze), 0)::bigint, "
               f"coalesce(sum(silver), 0)::bigint, coalesce(sum(q), 0)::bigint from ({union}) group by 1, 2 order by 1, 2")
        return _table(con, sql, [], RECORDS_PER_DAY_SCHEMA)
    finally:
        con.close()


def source_success(lake: TenantLake, *, by_day: bool = False) -> pa.Table:
    """Per source (and UTC day when `by_day`): its source-runs (one per run that touched the
    source), how many were ok (no step of the source failed) and the success rate (ok / runs);
    `day` is null unless `by_day`. The last run's time and status come with each row."""
    day = "started_at::date" if by_day else "null::date"
    sql = f"""
        with sr as (
            select run_id, source, min(started_at) as started_at, bool_or(status = 'failed') as failed
            from meta.runs where source is not null and stage <> '{RUN_STAGE}' group by 1, 2)
        select source, {day} as day, count(*) as runs, count(*) filter (where not failed) as ok,
               count(*) filter (where failed) as failed, round(count(*) filter (where not failed) / count(*), 4),
               max(started_at), arg_max(case when failed then 'failed' else 'ok' end, started_at)
        from sr group by 1, 2 order by 1, 2
    """
    return _run(lake, "meta.runs", sql, [], SOURCE_SUCCESS_SCHEMA)


def _silvered(con: Any) -> str:
    if _has(con, "meta.progress"):
        return "select distinct source, object_sha256 from meta.progress where stage = 'silver'"
    return "select null::varchar as source, null::varchar as object_sha256 where false"


def _in_bronze(con: Any) -> str:
    names = [r[0] for r in con.execute(
        "select view_name from duckdb_views() where schema_name = 'bronze' order by 1").fetchall()]
    parts = [f'select distinct _source as source, _object_sha256 as object_sha256 from bronze."{n}"' for n in names]
    return " union ".join(parts) or "select null::varchar as source, null::varchar as object_sha256 where false"


def _waiting(con: Any) -> str:
    return _WAITING.format(silvered=_silvered(con), in_bronze=_in_bronze(con))


def backlog_objects(lake: TenantLake, source: str | None = None) -> pa.Table:
    """The objects landed but not yet in silver, oldest first, with `state`: `waiting_bronze`
    (landed, bronze has not read it), `no_parser` (its source kind has no bronze parser yet) or
    `waiting_silver` (in bronze, not yet consumed by silver). Quarantined objects are not backlog."""
    con = _connect(lake)
    try:
        if not _has(con, "meta.manifest"):
            return BACKLOG_OBJECTS_SCHEMA.empty_table()
        sql = f"select * from ({_waiting(con)}) w"
        params: list[Any] = []
        if source is not None:
            sql += " where source = ?"
            params.append(source)
        return _table(con, sql + " order by received_at, source, object_sha256", params, BACKLOG_OBJECTS_SCHEMA)
    finally:
        con.close()


def backlog(lake: TenantLake) -> pa.Table:
    """Per source with landed objects: how many landed, how many wait (by state) and the sum
    `backlog`, how many were quarantined whole, and when the oldest waiting object arrived."""
    con = _connect(lake)
    try:
        if not _has(con, "meta.manifest"):
            return BACKLOG_SCHEMA.empty_table()
        sql = f"""
            with obj as ({_OBJECT_STATE}), w as ({_waiting(con)})
            select obj.source, count(*) as landed,
                   count(w.state) filter (where w.state = 'waiting_bronze'),
                   count(w.state) filter (where w.state = 'no_parser'),
                   count(w.state) filter (where w.state = 'waiting_silver'),
                   count(w.state),
                   count(*) filter (where obj.status = 'quarantined'),
                   min(w.received_at)
            from obj left join w using (source, object_sha256)
            group by 1 order by 1
        """
        return _table(con, sql, [], BACKLOG_SCHEMA)
    finally:
        con.close()
