"""A DuckDB session over the lake as it was: "as of" a record time, or at a valid time.

    con = connect_as_of(lake, datetime(2026, 1, 1, tzinfo=UTC))              # what the lake believed then
    con = connect_as_of(lake, datetime(2024, 6, 1, tzinfo=UTC), valid=True)  # what was true then, as known now
    con = connect_bitemporal(lake, recorded_at=..., valid_at=...)            # both

In the session, `silver.<type>` holds one row per resource: the version that was current at
the record time (history rows with `valid_from <= T < valid_to`, a late arrival never is), or,
at a valid time V, the version with the latest valid time (`source_time`, else its record
time) not after V, latest version first when equal, among the versions recorded by then.
`silver.<type>_history` holds the versions recorded by then (a `valid_to` set later reads as
null). `views.<view>` are the flat views and the compiled ViewDefinition views (shipped and
user) computed live from that silver, `bronze.*`
the rows landed by then. `meta.*` are as now, and gold is not attached (marts are built
from the views of the present).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from medlake.errors import ConfigError
from medlake.lake.catalog import _register, _subdirs, connect
from medlake.lake.paths import TenantLake

_RAW = "asof_raw"  # schema of the unfiltered tables the as-of views read


def connect_as_of(lake: TenantLake, at: datetime, valid: bool = False) -> Any:
    """A session over the lake as of record time `at` (`valid=False`), or at valid time `at`
    with everything recorded up to now (`valid=True`). `at` must carry a zone."""
    return connect_bitemporal(lake, valid_at=at) if valid else connect_bitemporal(lake, recorded_at=at)


def connect_bitemporal(lake: TenantLake, *, recorded_at: datetime | None = None, valid_at: datetime | None = None) -> Any:
    """A session over what the lake had recorded by `recorded_at` (default: now), showing the
    versions valid at `valid_at` (default: the current ones at `recorded_at`)."""
    from medlake.silver.schema import CURRENT_SCHEMA, table_name

    recorded = _literal(recorded_at or datetime.now(UTC), "recorded_at")
    valid = _literal(valid_at, "valid_at") if valid_at is not None else None
    con = connect(lake, gold=False)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_RAW}")
    opts = lake.delta_options()
    columns = ", ".join(CURRENT_SCHEMA.names)
    for rtype in _subdirs(lake, "silver/history"):
        name = table_name(rtype)
        if not _register(con, _RAW, f"{name}_history", lake.history(rtype), opts):
            continue
        raw = f'{_RAW}."{name}_history"'
        if "source_time" not in {d[0] for d in con.execute(f"SELECT * FROM {raw} LIMIT 0").description}:
            raw = f"(SELECT *, CAST(NULL AS TIMESTAMPTZ) AS source_time FROM {raw})"  # written before valid time
        con.execute(f'CREATE OR REPLACE VIEW silver."{name}_history" AS {_history_sql(raw, recorded)}')
        pick = _valid_sql(raw, recorded, valid, columns) if valid else _record_sql(raw, recorded, columns)
        con.execute(f'CREATE OR REPLACE VIEW silver."{name}" AS {pick}')
    for name in _subdirs(lake, "bronze"):
        if _register(con, _RAW, f"bronze_{name}", lake.uri(f"bronze/{name}"), opts):
            con.execute(f'CREATE OR REPLACE VIEW bronze."{name}" AS SELECT * FROM {_RAW}."bronze_{name}" WHERE _landed_at <= {recorded}')
    _live_views(con, lake)
    return con


def connect_instants(lake: TenantLake, as_of: str | None, valid_at: str | None) -> Any:
    """`connect_bitemporal` with the instants as text (the CLI's `--as-of` and `--valid-at`)."""
    return connect_bitemporal(
        lake,
        recorded_at=parse_instant(as_of, "--as-of") if as_of else None,
        valid_at=parse_instant(valid_at, "--valid-at") if valid_at else None,
    )


def parse_instant(text: str, what: str = "time") -> datetime:
    """`2026-01-01T00:00:00Z`, `2026-01-01T05:00:00+05:00`, `2026-01-01 00:00` or `2026-01-01`
    as an aware datetime; no offset means UTC (a date alone: its midnight UTC)."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{what} `{text}` is not an instant; write ISO 8601 like `2026-01-01T00:00:00Z` "
            "(an offset such as `+02:00` also works; none means UTC) or a date `2026-01-01`",
            value=text,
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _literal(at: datetime, what: str) -> str:
    if at.tzinfo is None:
        raise ConfigError(
            f"`{what}` {at.isoformat()} has no time zone; give an instant with one (e.g. `2026-01-01T00:00:00Z`)",
            value=at.isoformat(),
        )
    return f"TIMESTAMPTZ '{at.astimezone(UTC).isoformat()}'"


def _history_sql(raw: str, recorded: str) -> str:
    """The versions recorded by then; a close-out that happened later is not known yet."""
    return (
        f"SELECT * REPLACE (CASE WHEN valid_to <= {recorded} THEN valid_to END AS valid_to) "
        f"FROM {raw} WHERE valid_from <= {recorded}"
    )


def _record_sql(raw: str, recorded: str, columns: str) -> str:
    """The version that was current at record time."""
    return (
        f"SELECT {columns} FROM {raw} "
        f"WHERE valid_from <= {recorded} AND (valid_to IS NULL OR valid_to > {recorded})"
    )


def _valid_sql(raw: str, recorded: str, valid: str, columns: str) -> str:
    """The version valid at `valid` as known at `recorded` (late arrivals included)."""
    since = "coalesce(source_time, valid_from)"
    return (
        f"SELECT {columns} FROM {raw} WHERE valid_from <= {recorded} AND {since} <= {valid} "
        f"QUALIFY row_number() OVER (PARTITION BY id ORDER BY {since} DESC, version DESC) = 1"
    )


def _live_views(con: Any, lake: TenantLake) -> None:
    """`views.<view>` computed from the session's silver instead of the stored tables: the
    flat views from their SQL, the compiled ones from the ViewDefinitions the lake recorded."""
    from medlake.silver.views import flat
    from medlake.silver.views.materialize import definition_sql, stored_definitions
    from medlake.silver.views.registry import VIEW_NAME

    flat.install_macros(con)
    flat.ensure_silver_tables(con)
    stored = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'views'").fetchall()]
    for name in stored:
        if name not in flat.VIEWS:  # a stored table of the present that no live view replaces
            con.execute(f'DROP VIEW views."{name}"')
    for name in flat.VIEWS:
        con.execute(f'CREATE OR REPLACE VIEW views."{name}" AS {flat.view_sql(name)}')
    for name, view in stored_definitions(lake).items():
        if VIEW_NAME.match(name):
            con.execute(f'CREATE OR REPLACE VIEW views."{name}" AS {definition_sql(con, view)}')
