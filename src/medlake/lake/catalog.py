"""A DuckDB session over one tenant's lake: every table appears as a view.

Schemas: `bronze.<source>__<kind>`, `silver.<resource>` (e.g. `silver.patient`,
`silver.medication_request`), `silver.<resource>_history`, `identity.<table>` (the master
patient index: `identity.crosswalk`, `identity.events`, `identity.review`,
`identity.overrides`), `views.<view>`, `gold.<mart>`,
and `meta.runs`, `meta.manifest`, `meta.quarantine`, `meta.progress`, `meta.unmapped`, `meta.unmapped_codes`, `meta.x12_balance`, `meta.time_adjustments`, `meta.schemas`, `meta.schema_events`, `meta.check_results` (data-quality results), `meta.alerts` (alert deliveries). Delta tables are read through
`DeltaTable.to_pyarrow_dataset()`, so filters push down and no DuckDB extension is needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from medlake.lake import delta
from medlake.lake.paths import TenantLake

_SAFE = re.compile(r"^[A-Za-z0-9_]+$")


def duckdb_connect(database: str = ":memory:", read_only: bool = False) -> Any:
    """A DuckDB connection that never downloads extensions (offline machines, firewalls)."""
    import duckdb

    return duckdb.connect(
        database,
        read_only=read_only,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )


def _subdirs(lake: TenantLake, prefix: str) -> list[str]:
    base = Path(lake.uri(prefix))
    if "://" in lake.root or not base.exists():
        return _remote_subdirs(lake, prefix)
    return sorted(p.name for p in base.iterdir() if p.is_dir() and (p / "_delta_log").exists())


def _remote_subdirs(lake: TenantLake, prefix: str) -> list[str]:
    names: set[str] = set()
    for key in lake.storage.list(prefix.rstrip("/") + "/"):
        rest = key[len(prefix.rstrip("/")) + 1 :]
        parts = rest.split("/")
        if len(parts) > 1 and parts[1] == "_delta_log":
            names.add(parts[0])
    return sorted(names)


def _register(con: Any, schema: str, name: str, uri: str, options: dict[str, str]) -> bool:
    from deltalake import DeltaTable

    if not _SAFE.match(name) or not delta.exists(uri, options):
        return False
    alias = f"__{schema}__{name}"
    dt = DeltaTable(uri, storage_options=options or None)
    files = dt.file_uris()
    if "://" not in uri and files:
        # Local tables: DuckDB reads the table's current Parquet files itself. (pyarrow cannot
        # apply filters to the string_view columns delta-rs MERGE writes.)
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(
            f'CREATE OR REPLACE VIEW {schema}."{name}" AS '
            f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
        )
        return True
    con.register(alias, dt.to_pyarrow_dataset())
    con.execute(f'CREATE OR REPLACE VIEW {schema}."{name}" AS SELECT * FROM "{alias}"')
    return True


def connect(lake: TenantLake, *, gold: bool = True) -> Any:
    """Open an in-memory DuckDB session with the tenant's tables registered as views."""
    from medlake.silver.schema import table_name

    con = duckdb_connect()
    for schema in ("bronze", "silver", "identity", "views", "gold", "meta"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    opts = lake.delta_options()
    for name in _subdirs(lake, "bronze"):
        _register(con, "bronze", name, lake.uri(f"bronze/{name}"), opts)
    for rtype in _subdirs(lake, "silver/fhir"):
        _register(con, "silver", table_name(rtype), lake.silver(rtype), opts)
    for rtype in _subdirs(lake, "silver/history"):
        _register(con, "silver", f"{table_name(rtype)}_history", lake.history(rtype), opts)
    for name in _subdirs(lake, "silver/identity"):
        _register(con, "identity", name, lake.identity(name), opts)
    for name in _subdirs(lake, "silver/views"):
        _register(con, "views", name, lake.view(name), opts)
    for name in ("runs", "manifest", "quarantine", "progress", "unmapped", "unmapped_codes", "x12_balance", "time_adjustments", "schemas", "schema_events", "check_results", "alerts"):
        _register(con, "meta", name, lake.meta(name), opts)
    if gold:
        attach_gold(con, lake)
    return con


def attach_gold(con: Any, lake: TenantLake) -> list[str]:
    """Attach `gold/gold.duckdb` read-only and expose its marts as `gold.<mart>`."""
    path = Path(lake.gold_db)
    if "://" in lake.root or not path.exists():
        return []
    con.execute(f"ATTACH '{path.as_posix()}' AS gold_db (READ_ONLY)")
    # only the marts: dbt's staging views and copied inputs live in other schemas of the file
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = 'gold_db' AND table_schema IN ('gold', 'main')"
    ).fetchall()
    marts = []
    for schema, name in rows:
        if _SAFE.match(name) and _SAFE.match(schema):
            con.execute(f'CREATE OR REPLACE VIEW gold."{name}" AS SELECT * FROM gold_db."{schema}"."{name}"')
            marts.append(name)
    return marts
