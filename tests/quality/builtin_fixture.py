"""A hand-built catalog session for the builtin checks: empty schemas, tables made by each test."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from medlake.lake.catalog import duckdb_connect
from medlake.quality.model import CheckContext, CheckSpec, Outcome, builtins

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def session() -> Any:
    con = duckdb_connect()
    for schema in ("bronze", "silver", "identity", "views", "meta"):
        con.execute(f"create schema {schema}")
    return con


def context(con: Any, *sources: tuple[str, str] | tuple[str, str, float]) -> CheckContext:
    """`sources`: (name, kind[, freshness_hours])."""
    tenant = SimpleNamespace(name="t", sources=[
        SimpleNamespace(name=s[0], kind=s[1], freshness_hours=s[2] if len(s) > 2 else None) for s in sources])
    return CheckContext(project=cast(Any, None), tenant=cast(Any, tenant), lake=cast(Any, None), con=con,
                        run_id="r1", now=NOW)


def run(ctx: CheckContext, name: str, **params: Any) -> list[Outcome]:
    import medlake.quality.builtin  # noqa: F401  (registers the builtins)

    spec = CheckSpec(id=f"test.{name}", table="meta.manifest", kind="builtin", category="plausibility",
                     dimension="accuracy", params={"builtin": name, **params})
    return builtins()[name](ctx, spec)


def brief(outcomes: list[Outcome]) -> list[tuple[str | None, int, int, str | None]]:
    return [(o.group, o.failing, o.total, o.sentence) for o in outcomes]
