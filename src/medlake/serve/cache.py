"""The serving copy: the tenant's silver tables copied into a local DuckDB file.

Querying Delta's Parquet files directly costs a few milliseconds per query just to open them;
DuckDB's own storage answers an id lookup in about one. So the API reads a copy, which
`sync()` keeps in step with the lake: a table is copied again only when its Delta version
changed. The copy is sorted by patient, then id (a patient's resources sit together, so a
`patient=` search reads few blocks) and stored uncompressed: fetching a few resources from
compressed string blocks costs ten times more than reading them plain (measured: 25 ms
against 2 ms for 50 Observations of one patient). Each table has an index on `id` for reads, and Patient its folded name columns for `name`,
`family` and `given` searches (`query.folded_columns`). The file lives in a temporary folder removed when the cache is closed (or
the process ends).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from medlake.lake.catalog import _subdirs, duckdb_connect
from medlake.lake.paths import TenantLake
from medlake.serve.params import params_for
from medlake.serve.query import folded_columns
from medlake.silver.schema import table_name


class ServingCache:
    """Silver tables of one tenant as `silver.<table>` and `silver.<table>_history`."""

    def __init__(self, lake: TenantLake) -> None:
        self._lake = lake
        folder = tempfile.mkdtemp(prefix="medlake-serve-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, folder, True)
        self.con: Any = duckdb_connect(str(Path(folder) / "serve.duckdb"))
        self.con.execute("SET force_compression = 'uncompressed'")
        self.con.execute("SET GLOBAL TimeZone = 'UTC'")  # every cursor reads instants in UTC
        self.con.execute("CREATE SCHEMA IF NOT EXISTS silver")
        self._versions: dict[str, int] = {}
        self.types: list[str] = []
        self.history: set[str] = set()
        self.sync()

    def sync(self) -> int:
        """Copy the tables whose Delta version changed (and drop vanished ones); how many were copied."""
        from deltalake import DeltaTable

        lake, opts = self._lake, self._lake.delta_options()
        tables = [(t, table_name(t), lake.silver(t)) for t in _subdirs(lake, "silver/fhir")]
        tables += [(t, f"{table_name(t)}_history", lake.history(t)) for t in _subdirs(lake, "silver/history")]
        copied = 0
        for rtype, name, uri in tables:
            delta = DeltaTable(uri, storage_options=opts or None)
            if self._versions.get(name) != delta.version():
                self._copy(name, uri, delta, [] if name.endswith("_history") else folded_columns(params_for(rtype)))
                self._versions[name] = delta.version()
                copied += 1
        for gone in set(self._versions) - {name for _, name, _ in tables}:
            self.con.execute(f'DROP TABLE IF EXISTS silver."{gone}"')
            del self._versions[gone]
        self.types = [t for t, name, _ in tables if not name.endswith("_history")]
        self.history = {t for t, name, _ in tables if name.endswith("_history")}
        return copied

    def _copy(self, name: str, uri: str, delta: Any, extra: list[tuple[str, str]]) -> None:
        """Copy one Delta table, adding the `extra` (column, SQL expression) pairs."""
        files = delta.file_uris()
        if "://" not in uri and files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            source = f"read_parquet([{listing}], union_by_name = true)"
        else:
            self.con.register("__medlake_copy", delta.to_pyarrow_dataset())
            source = "__medlake_copy"
        added = "".join(f", {expr} AS {column}" for column, expr in extra)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE silver."{name}" AS SELECT *{added} FROM {source} ORDER BY patient_id, id')
            # reads and vreads look one id up: an ART index answers in ~0.5 ms where a scan of
            # 870k Observations (sorted by patient, so zone maps cannot skip) took ~6.5 ms
            self.con.execute(f'CREATE INDEX "{name}__id" ON silver."{name}" (id)')
        finally:
            if source == "__medlake_copy":
                self.con.unregister("__medlake_copy")

    def close(self) -> None:
        self.con.close()
        self._cleanup()
