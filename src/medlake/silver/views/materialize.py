"""Views materialized from ViewDefinitions with the DuckDB compiler.

The shipped views without hand-written SQL (`registry.COMPILED`: diagnostic_report, location)
and the user views of a tenant become Delta tables `silver/views/<name>`, beside the flat views
of `flat.py`. The definitions they were built from are recorded in
`silver/views/_definitions.json`, so an as-of session can recompute them from the silver of
another time and the API can run them by name.

    counts, rejected = write_definition_views(con, lake, views)   # con: a session with silver.*
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from medlake.silver.schema import table_name
from medlake.silver.views.engine.compile_sql import compile_view
from medlake.silver.views.engine.errors import ViewDefinitionError

if TYPE_CHECKING:
    import duckdb

    from medlake.lake.paths import TenantLake

log = logging.getLogger(__name__)

DEFINITIONS_KEY = "silver/views/_definitions.json"
"""Where the lake records the ViewDefinitions its compiled views were built from (name → JSON)."""

_NO_RESOURCES = "(SELECT CAST(NULL AS VARCHAR) AS resource WHERE false)"


def _has_relation(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    import duckdb

    try:
        con.execute(f"SELECT * FROM {relation} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def definition_sql(con: duckdb.DuckDBPyConnection, view: dict[str, Any]) -> str:
    """The compiled query of `view` over the session's `silver.<type>` (no rows when the lake
    has no table of that type yet, so the view still has its columns)."""
    resource = view.get("resource")
    table = f"silver.{table_name(resource)}" if isinstance(resource, str) and resource.isalnum() else None
    source = table if table is not None and _has_relation(con, table) else _NO_RESOURCES
    return compile_view(view, source=source)


def materialize_definition(con: duckdb.DuckDBPyConnection, name: str, view: dict[str, Any]) -> pa.Table:
    """Run ViewDefinition `view` over the session's silver; a failure while running (e.g. a
    column that yields several values) is a `ViewDefinitionError` naming the view."""
    import duckdb

    sql = definition_sql(con, view)
    try:
        table: pa.Table = con.sql(sql).to_arrow_table()
    except duckdb.Error as e:
        text = str(e)
        reason = text.split("medlake:", 1)[1].strip() if "medlake:" in text else text.splitlines()[0]
        raise ViewDefinitionError(f"view `{name}` failed while running: {reason}", view=name) from None
    return _utc(table)


def _utc(table: pa.Table) -> pa.Table:
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit, tz="UTC"), f.nullable)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def write_definition_views(
    con: duckdb.DuckDBPyConnection,
    lake: TenantLake,
    views: dict[str, dict[str, Any]],
    files: dict[str, str] | None = None,
) -> tuple[dict[str, int], dict[str, str]]:
    """Materialize every view of `views` (name → ViewDefinition JSON) into `silver/views/<name>`
    and record the definitions of those written. Returns rows per view, and the views that
    failed while running (their file, else their name → message); one failure does not stop
    the others."""
    from medlake.lake import delta

    counts: dict[str, int] = {}
    failed: dict[str, str] = {}
    for name, view in views.items():
        try:
            table = materialize_definition(con, name, view)
        except ViewDefinitionError as e:
            where = (files or {}).get(name, name)
            failed[where] = f"{where}: {e}" if where != name else str(e)
            continue
        delta.overwrite(lake.view(name), table, lake.delta_options())
        counts[name] = table.num_rows
    written = {name: views[name] for name in counts}
    lake.storage.write_bytes(DEFINITIONS_KEY, orjson.dumps(written, option=orjson.OPT_INDENT_2))
    log.info("wrote %d compiled views (%d rows), %d failed", len(counts), sum(counts.values()), len(failed))
    return counts, failed


def stored_definitions(lake: TenantLake) -> dict[str, dict[str, Any]]:
    """The ViewDefinitions the last gold run materialized (name → JSON); empty before any."""
    if not lake.storage.exists(DEFINITIONS_KEY):
        return {}
    found: dict[str, dict[str, Any]] = orjson.loads(lake.storage.read_bytes(DEFINITIONS_KEY))
    return found
