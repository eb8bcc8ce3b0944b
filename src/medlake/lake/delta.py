"""Delta Lake helpers: append, merge with retry, read.

delta-rs uses optimistic concurrency: two writers committing at once make one of them raise
`CommitFailedError`. Every write here retries that with backoff, and gives up with
`TableBusyError` (a `Transient` error) after `RETRIES` attempts.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.dataset as ds

from medlake.errors import TableBusyError

log = logging.getLogger("medlake.lake")
RETRIES = 8
T = TypeVar("T")


def _retry(what: str, uri: str, fn: Callable[[], T]) -> T:
    from deltalake.exceptions import CommitFailedError

    for attempt in range(RETRIES):
        try:
            return fn()
        except CommitFailedError:
            wait = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.info("delta %s on %s lost a commit race; retry %d in %.2fs", what, uri, attempt + 1, wait)
            time.sleep(wait)
    raise TableBusyError(
        f"`{uri}`: {what} failed after {RETRIES} commit conflicts; another writer keeps winning. Retry the run.",
        uri=uri,
    )


def exists(uri: str, options: dict[str, str] | None = None) -> bool:
    from deltalake import DeltaTable

    return bool(DeltaTable.is_deltatable(uri, storage_options=options or None))


def append(uri: str, table: pa.Table, options: dict[str, str] | None = None) -> None:
    """Append rows; new columns are added to the table schema (schema evolution)."""
    if table.num_rows == 0:
        return
    from deltalake import write_deltalake

    _retry(
        "append",
        uri,
        lambda: write_deltalake(
            uri, table, mode="append", schema_mode="merge", storage_options=options or None
        ),
    )


def overwrite(uri: str, table: pa.Table, options: dict[str, str] | None = None) -> None:
    """Replace the table's contents (used for derived tables such as views)."""
    from deltalake import write_deltalake

    _retry(
        "overwrite",
        uri,
        lambda: write_deltalake(
            uri, table, mode="overwrite", schema_mode="overwrite", storage_options=options or None
        ),
    )


def merge(
    uri: str,
    table: pa.Table,
    *,
    on: Sequence[str],
    update_when: str | None = None,
    insert: bool = True,
    update: bool = True,
    update_set: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """MERGE `table` into the Delta table at `uri` on the key columns `on`.

    Creates the table on first use. `update_when` is an extra SQL predicate for updates
    (e.g. `"t.content_hash <> s.content_hash"`); `update_set` updates only those columns.
    Returns delta-rs' merge metrics.
    """
    if table.num_rows == 0:
        return {}
    from deltalake import DeltaTable

    predicate = " AND ".join(f"t.{c} = s.{c}" for c in on)
    # merge_schema stays off: with a partial source schema delta-rs 1.6 nulls non-null columns
    # of untouched rows in rewritten files; schema evolution happens on append instead.

    def run() -> dict[str, Any]:
        # creating the table is inside the retry: parallel workers may race to create it,
        # and the loser then MERGEs into the winner's table
        if not exists(uri, options):
            if not insert:
                return {}
            # an empty table first: two creators cannot both insert (delta-rs would turn the
            # second creation into an append), they both MERGE into the one table
            DeltaTable.create(uri, schema=table.schema, mode="ignore", storage_options=options or None)
        dt = DeltaTable(uri, storage_options=options or None)
        m = dt.merge(table, predicate=predicate, source_alias="s", target_alias="t")
        if update and update_set is not None:
            m = m.when_matched_update(updates=update_set, predicate=update_when)
        elif update:
            m = m.when_matched_update_all(predicate=update_when)
        if insert:
            m = m.when_not_matched_insert_all()
        result: dict[str, Any] = m.execute()
        return result

    return _retry("merge", uri, run)


def dataset(uri: str, options: dict[str, str] | None = None) -> ds.Dataset | None:
    """The table as a pyarrow dataset (pushdown-capable), or None when it does not exist."""
    from deltalake import DeltaTable

    if not exists(uri, options):
        return None
    return DeltaTable(uri, storage_options=options or None).to_pyarrow_dataset()


def read(
    uri: str,
    columns: list[str] | None = None,
    filter: ds.Expression | None = None,
    options: dict[str, str] | None = None,
) -> pa.Table | None:
    """Read (some columns of) a table, or None when it does not exist."""
    d = dataset(uri, options)
    if d is None:
        return None
    cols = [c for c in columns if c in d.schema.names] if columns else None
    return d.to_table(columns=cols, filter=filter)


def read_where_in(
    uri: str, column: str, values: list[str], columns: list[str] | None = None, options: dict[str, str] | None = None
) -> pa.Table | None:
    """Rows whose `column` is one of `values` (pushed down to the files when possible).

    Files written by delta-rs MERGE may store strings as `string_view`; pyarrow's statistics
    pruning cannot compare those with `string`, so that case falls back to filtering after
    the read.
    """
    import pyarrow.compute as pc

    d = dataset(uri, options)
    if d is None:
        return None
    cols = [c for c in columns if c in d.schema.names] if columns else None
    try:
        return d.to_table(columns=cols, filter=pc.field(column).isin(values))
    except pa.ArrowNotImplementedError:
        read_cols = None if cols is None else sorted({*cols, column})
        t = d.to_table(columns=read_cols)
        mask = pc.is_in(t.column(column).cast(pa.string()), value_set=pa.array(values, pa.string()))
        t = t.filter(mask)
        return t if cols is None else t.select(cols)
