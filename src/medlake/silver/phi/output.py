"""De-identified output of a tenant's lake: the pseudonym key, file exports, and a DuckDB
session that holds only de-identified `views` and `gold`.

The key is 32 random bytes per tenant at `_meta/deid/pseudonym.key`, created on first use.
It never leaves the lake: the exports and the de-identified session never contain it (the
session is a separate DuckDB connection that receives de-identified Arrow tables only, so
nothing in it can compute a pseudonym).
"""

from __future__ import annotations

import logging
import secrets
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from medlake.errors import ConfigError
from medlake.lake.paths import TenantLake
from medlake.silver.phi.deid import UnclassifiedColumnsWarning, deidentify

log = logging.getLogger(__name__)

KEY_NAME = "_meta/deid/pseudonym.key"
SCHEMAS = ("views", "gold")
"""The schemas a de-identified session shows (silver, bronze and meta are left out)."""


def tenant_key(lake: TenantLake) -> bytes:
    """The tenant's pseudonym key, created (32 random bytes) when the lake has none yet."""
    if not lake.storage.exists(KEY_NAME):
        lake.storage.write_bytes(KEY_NAME, secrets.token_hex(32).encode())
        log.info("created the pseudonym key of tenant %s", lake.tenant)
    text = lake.storage.read_bytes(KEY_NAME).decode().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(
            f"`{lake.uri(KEY_NAME)}` is not a hex key; delete it to create a new one "
            "(pseudonyms made with the old key will no longer match)",
            tenant=lake.tenant,
        ) from None
    return key


@dataclass
class Export:
    """What `export` wrote."""

    path: Path
    rows: int
    columns: list[str]
    removed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def export(lake: TenantLake, table: str, out: Path, *, as_of: date | None = None) -> Export:
    """Write the de-identified `table` to `out`: Parquet for `.parquet`, CSV for `.csv`."""
    from medlake.lake.catalog import connect

    fmt = {".parquet": "PARQUET", ".csv": "CSV"}.get(out.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"`{out.name}`: the output format comes from the extension; use `.parquet` or `.csv`", path=str(out)
        )
    con = connect(lake)
    try:
        with warnings.catch_warnings():  # the caller reports `unknown`
            warnings.simplefilter("ignore", UnclassifiedColumnsWarning)
            d = deidentify(con, table, key=tenant_key(lake), as_of=as_of)
        out.parent.mkdir(parents=True, exist_ok=True)
        opts = "FORMAT PARQUET" if fmt == "PARQUET" else "FORMAT CSV, HEADER"
        target = str(out).replace("'", "''")
        con.execute(f"COPY ({d.sql}) TO '{target}' ({opts})")
        rows = con.execute(f"SELECT count(*) FROM ({d.sql})").fetchall()[0][0]
    finally:
        con.close()
    return Export(out, int(rows), [c.name for c in d.columns], d.removed, d.unknown)


@dataclass
class Session:
    """A DuckDB connection with only de-identified tables, and what was left out per table."""

    con: Any
    tables: list[str] = field(default_factory=list)
    unknown: dict[str, list[str]] = field(default_factory=dict)


def deidentified_session(lake: TenantLake, *, as_of: date | None = None) -> Session:
    """A new in-memory DuckDB session where `views.*` and `gold.*` are the de-identified
    tables (materialized) and no other schema of the lake exists."""
    from medlake.lake.catalog import connect, duckdb_connect

    src = connect(lake)
    dst = duckdb_connect()
    session = Session(dst)
    try:
        key = tenant_key(lake)
        names = src.execute(
            "SELECT DISTINCT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('views', 'gold') ORDER BY 1, 2"
        ).fetchall()
        for schema in SCHEMAS:
            dst.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, name in names:
            with warnings.catch_warnings():  # reported in `Session.unknown`
                warnings.simplefilter("ignore", UnclassifiedColumnsWarning)
                d = deidentify(src, f"{schema}.{name}", key=key, as_of=as_of)
            data = src.sql(d.sql).to_arrow_table()
            dst.register("__deid_input", data)
            dst.execute(f'CREATE TABLE {schema}."{name}" AS SELECT * FROM __deid_input')
            dst.unregister("__deid_input")
            session.tables.append(d.table)
            if d.unknown:
                session.unknown[d.table] = d.unknown
    except BaseException:
        dst.close()
        raise
    finally:
        src.close()
    return session
