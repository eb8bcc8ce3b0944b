"""Every version of one silver resource, with its record time and valid time.

    versions = resource_history(lake, "Patient/0b6f…")
    then = current_at(versions, datetime(2026, 1, 1, tzinfo=UTC))   # what the lake believed then
    true = valid_at(versions, datetime(2024, 6, 1, tzinfo=UTC))     # what was true then, known now

Record time (`recorded_from`/`recorded_to`, the history's `valid_from`/`valid_to` columns) is
when a version was the lake's current one; valid time (`valid_from`, the `source_time`
column) is when the source says it became true. A version's valid time ends where the next
version in valid-time order begins (`valid_to`, derived, so late arrivals slot in without
rewriting anything).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from medlake.errors import ConfigError
from medlake.lake import delta
from medlake.lake.paths import TenantLake


@dataclass(frozen=True)
class Version:
    """One version of a resource, as the history holds it."""

    version: int
    recorded_from: datetime
    recorded_to: datetime | None  # None: current now; == recorded_from: never current (late)
    valid_from: datetime | None  # the source's time; None for versions written before it was kept
    valid_to: datetime | None  # where the next version in valid-time order begins
    reason: str
    source: str | None
    source_system: str | None
    source_id: str | None
    object_name: str | None
    object_sha256: str | None
    record_index: int | None
    batch_id: str | None
    content_hash: str
    changed: tuple[str, ...]  # top-level elements that differ from the previous version
    resource: dict[str, Any]

    @property
    def is_current(self) -> bool:
        return self.recorded_to is None

    def as_json(self) -> dict[str, Any]:
        """The version as JSON-ready values (instants as ISO 8601 `…Z`)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = iso(value) if isinstance(value, datetime) else list(value) if isinstance(value, tuple) else value
        out["current"] = self.is_current
        return out


def iso(at: datetime | None) -> str | None:
    """An instant as `YYYY-MM-DDTHH:MM:SSZ` (microseconds only when there are any)."""
    if at is None:
        return None
    text = at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{at.microsecond:06d}" if at.microsecond else "")
    return text + "Z"


def split_reference(reference: str, types: list[str]) -> tuple[str, str]:
    """`Patient/<id>` → (`Patient`, `<id>`), the type matched against `types` (a table name
    such as `medication_request` or any letter case works too)."""
    from medlake.silver.schema import table_name

    rtype, sep, rid = reference.partition("/")
    if not sep or not rtype or not rid:
        raise ConfigError(
            f"`{reference}` is not RESOURCE_TYPE/ID; write it like `Patient/<id>` (ids are in `silver.<type>.id`)",
            reference=reference,
        )
    by_name = {t.lower(): t for t in types} | {table_name(t): t for t in types}
    if rtype.lower() in by_name:
        return by_name[rtype.lower()], rid
    close = difflib.get_close_matches(rtype, types, n=1) or difflib.get_close_matches(rtype.lower(), list(by_name), n=1)
    hint = f" Did you mean `{by_name.get(close[0], close[0])}`?" if close else ""
    raise ConfigError(
        f"`{rtype}` is not a resource type in this lake's silver history; the types are: {', '.join(types) or 'none'}.{hint}",
        resource_type=rtype,
    )


def resource_history(lake: TenantLake, reference: str) -> list[Version]:
    """The versions of `RESOURCE_TYPE/ID`, oldest first. The id may also be the source's own
    key (`source_id`) when exactly one resource of the type has it."""
    from medlake.lake.catalog import _subdirs

    rtype, rid = split_reference(reference, _subdirs(lake, "silver/history"))
    uri = lake.history(rtype)
    rows = _rows(delta.read_where_in(uri, "id", [rid], options=lake.delta_options()))
    if not rows:
        by_source = _rows(delta.read_where_in(uri, "source_id", [rid], options=lake.delta_options()))
        if len({r["id"] for r in by_source}) == 1:
            rows = by_source
    if not rows:
        raise ConfigError(
            f"`{rtype}/{rid}` is not in silver history: no {rtype} has that id (or, alone, that source id); "
            f'find ids with `medlake sql "select id, source_id from silver.{_table(rtype)} limit 5"`',
            resource_type=rtype,
        )
    return _versions(sorted(rows, key=lambda r: r["version"]))


def current_at(versions: list[Version], at: datetime) -> Version | None:
    """The version that was current at record time `at` (None: not recorded yet)."""
    for v in versions:
        if v.recorded_from <= at and (v.recorded_to is None or at < v.recorded_to):
            return v
    return None


def valid_at(versions: list[Version], at: datetime, recorded_at: datetime | None = None) -> Version | None:
    """The version valid at `at` among those recorded by `recorded_at` (default: all)."""
    known = [v for v in versions if recorded_at is None or v.recorded_from <= recorded_at]
    candidates = [v for v in known if _since(v) <= at]
    return max(candidates, key=lambda v: (_since(v), v.version), default=None)


def _since(v: Version) -> datetime:
    return v.valid_from or v.recorded_from


def _table(rtype: str) -> str:
    from medlake.silver.schema import table_name

    return table_name(rtype)


def _rows(table: Any) -> list[dict[str, Any]]:
    return [] if table is None else list(table.to_pylist())


def _versions(rows: list[dict[str, Any]]) -> list[Version]:
    """Versions with `changed` (against the previous version number) and the derived valid end."""
    resources = [orjson.loads(r["resource"]) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (rows[i].get("source_time") or rows[i]["valid_from"], rows[i]["version"]))
    ends: dict[int, datetime | None] = {}
    for pos, i in enumerate(order):
        nxt = order[pos + 1] if pos + 1 < len(order) else None
        known = nxt is not None and rows[i].get("source_time") is not None  # else valid time is unknown
        ends[i] = rows[nxt].get("source_time") or rows[nxt]["valid_from"] if known and nxt is not None else None
    out = []
    for i, (r, res) in enumerate(zip(rows, resources, strict=True)):
        changed = _changed(resources[i - 1], res) if i else ()
        out.append(
            Version(
                r["version"], r["valid_from"], r["valid_to"], r.get("source_time"), ends[i], r.get("reason") or "",
                r.get("source"), r.get("source_system"), r.get("source_id"), r.get("_object_name"),
                r.get("_object_sha256"), r.get("_record_index"), r.get("_batch_id"), r["content_hash"], changed, res,
            )
        )
    return out


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    keys = [k for k in after if k != "meta"] + [k for k in before if k != "meta" and k not in after]
    return tuple(k for k in keys if before.get(k) != after.get(k))
