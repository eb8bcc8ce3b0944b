"""Read-only access to one tenant's silver resources for the API, through DuckDB.

Reads go to the serving copy (`cache.py`), synced with the lake at most every
`refresh_seconds`, so later pipeline runs show up without a restart. Each request works on its
own cursor, so handlers running in threads never share one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from medlake.lake.paths import TenantLake
from medlake.serve.cache import ServingCache
from medlake.serve.params import SearchParam
from medlake.serve.query import Where, sql_list, within
from medlake.silver.history import iso
from medlake.silver.schema import table_name


@dataclass(frozen=True)
class StoredVersion:
    version: int
    resource: dict[str, Any]
    recorded: datetime
    reason: str


class ResourceStore:
    """The current and historical resources of one tenant."""

    def __init__(self, lake: TenantLake, refresh_seconds: float = 30.0) -> None:
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._cache = ServingCache(lake)
        self._synced = time.monotonic()

    @property
    def types(self) -> list[str]:
        """The resource types with a current table, sorted."""
        return self._cache.types

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with self._lock:  # syncing and creating cursors are not thread-safe; using cursors is
            if time.monotonic() - self._synced >= self._refresh:
                self._cache.sync()
                self._synced = time.monotonic()
            cur = self._cache.con.cursor()
        try:
            yield cur  # in UTC: the cache sets the time zone globally
        finally:
            cur.close()

    def close(self) -> None:
        self._cache.close()

    def read(self, rtype: str, rid: str, patient: str | None = None) -> dict[str, Any] | None:
        found = self.by_ids(rtype, [rid], patient)
        return found[0] if found else None

    def by_ids(self, rtype: str, ids: list[str], patient: str | None = None) -> list[dict[str, Any]]:
        """The current resources with these ids (within `patient`'s compartment when given)."""
        if not ids or rtype not in self.types:
            return []
        match = Where(["id = ?"], [ids[0]]) if len(ids) == 1 else Where(["list_contains(?, id)"], [ids])  # `=` uses zone maps
        where = within(match, patient)
        sql = f"SELECT resource, last_updated FROM silver.{table_name(rtype)} WHERE {where.sql()} ORDER BY id"
        with self.cursor() as cur:
            return [_resource(r, t) for r, t in cur.execute(sql, where.values).fetchall()]

    def versions(self, rtype: str, rid: str, patient: str | None = None) -> list[StoredVersion]:
        """Every version of one resource, newest first (within `patient`'s compartment when given)."""
        if rtype not in self._cache.history:
            return []
        where = within(Where(["id = ?"], [rid]), patient)
        sql = (
            f"SELECT version, resource, valid_from, reason FROM silver.{table_name(rtype)}_history "
            f"WHERE {where.sql()} ORDER BY version DESC"
        )
        with self.cursor() as cur:
            rows = cur.execute(sql, where.values).fetchall()
        return [StoredVersion(v, _resource(r, t), t, why or "") for v, r, t, why in rows]

    def search(self, rtype: str, where: Where, count: int, after: str | None) -> tuple[list[dict[str, Any]], int, str | None]:
        """One page of matches in id order after id `after`, the total, and the last id when
        more pages follow."""
        table = f"silver.{table_name(rtype)}"
        # one scan: the matches are materialized once, then counted and paged
        sql = (
            f"WITH m AS MATERIALIZED (SELECT id, resource, last_updated FROM {table} WHERE {where.sql()}) "
            "SELECT (SELECT count(*) FROM m) AS total, p.* FROM (SELECT 1) "
            f"LEFT JOIN (SELECT * FROM m {'WHERE id > ?' if after is not None else ''} ORDER BY id LIMIT ?) p ON TRUE ORDER BY p.id"
        )
        values = [*where.values, *([after] if after is not None else []), count + 1]
        with self.cursor() as cur:
            rows = list(cur.execute(sql, values).fetchall())
        total = int(rows[0][0]) if rows else 0
        rows = [r for r in rows if r[1] is not None]
        more = len(rows) > count
        rows = rows[:count]
        last = rows[-1][1] if more and rows else None
        return [_resource(r, t) for _, _, r, t in rows], total, last

    def matching(self, rtype: str, where: Where, limit: int) -> list[dict[str, Any]]:
        table = f"silver.{table_name(rtype)}"
        sql = f"SELECT resource, last_updated FROM {table} WHERE {where.sql()} ORDER BY id LIMIT ?"
        with self.cursor() as cur:
            return [_resource(r, t) for r, t in cur.execute(sql, [*where.values, limit]).fetchall()]

    def compartment(self, patient_id: str) -> list[dict[str, Any]]:
        """Every current resource about one patient (its `patient_id`), by type then id."""
        out: list[dict[str, Any]] = []
        for rtype in self.types:
            if rtype == "Patient":
                continue
            sql = f"SELECT resource, last_updated FROM silver.{table_name(rtype)} WHERE patient_id = ? ORDER BY id"
            with self.cursor() as cur:
                out.extend(_resource(r, t) for r, t in cur.execute(sql, [patient_id]).fetchall())
        return out


def _resource(text: str, last_updated: datetime | None) -> dict[str, Any]:
    """The stored JSON with `meta.lastUpdated` filled from the table."""
    res: dict[str, Any] = orjson.loads(text)
    if last_updated is not None:
        res["meta"] = {**res.get("meta", {}), "lastUpdated": iso(last_updated)}
    return res


def referenced_ids(store: ResourceStore, rtype: str, ids: list[str], param: SearchParam) -> list[str]:
    """The ids that reference parameter `param` of the resources `ids` points at."""
    if not ids:
        return []
    expr = f"[{param.column}]" if param.column is not None else sql_list(param.paths)
    sql = f"SELECT DISTINCT unnest({expr}) AS v FROM silver.{table_name(rtype)} WHERE list_contains(?, id)"
    with store.cursor() as cur:
        refs = [r[0] for r in cur.execute(sql, [ids]).fetchall() if r[0]]
    return sorted({ref.rsplit("/", 1)[-1] for ref in refs})
