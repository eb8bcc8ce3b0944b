"""The gold stage: materialize the flat views from silver, then run the dbt project."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.errors import LakeError
from medlake.lake import delta
from medlake.lake.catalog import connect
from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RunLog

if TYPE_CHECKING:
    from medlake.pipeline import Reporter
    from medlake.silver.views.registry import UserViews


def build_views(
    lake: TenantLake, log: RunLog, rep: Reporter, details: dict[str, Any], user: UserViews | None = None
) -> None:
    """The flat views (hand SQL), then the views compiled from ViewDefinitions: the shipped ones
    without hand SQL and the tenant's own (`user`; bad ones are reported, not fatal)."""
    from medlake.silver.views import flat, materialize, registry

    con = connect(lake, gold=False)
    flat.ensure_silver_tables(con)
    rep.start("gold", "views", len(flat.VIEWS))
    views: dict[str, int] = {}
    for name in flat.VIEWS:
        with log.step("views", None, f"views.{name}") as step:
            table = flat.materialize(con, name)
            delta.overwrite(lake.view(name), table, lake.delta_options())
            step.rows_out = views[name] = table.num_rows
        rep.advance()
    compiled = {name: registry.shipped_view(name) for name in registry.COMPILED}
    compiled.update(user.views if user is not None else {})
    with log.step("views", None, "views (ViewDefinitions)") as step:
        counts, failed = materialize.write_definition_views(con, lake, compiled, user.files if user else None)
        step.rows_out = sum(counts.values())
    rep.finish()
    con.close()
    details["views"] = {**views, **counts}
    rejected = {**(user.rejected if user is not None else {}), **failed}
    if rejected:
        details["views_rejected"] = rejected


def build_gold(
    lake: TenantLake,
    log: RunLog,
    rep: Reporter,
    details: dict[str, Any],
    user: UserViews | None = None,
    cohorts_dir: str | None = None,
    value_sets_dir: str | None = None,
    quality_visit_classes: list[str] | None = None,
    blocked: dict[str, list[str]] | None = None,
    views_built: bool = False,
) -> None:
    """The flat views (unless the check stage built them this run: `views_built`), then the
    dbt build. `blocked` (mart → ids of the failed error-severity checks that stop it, from the
    check stage) leaves those marts and everything downstream of them out of the build; each
    gets a run-log row with status `blocked` naming the checks, and `details["blocked"]`."""
    from medlake.gold.runner import run_gold

    if "://" in lake.root:
        raise LakeError(
            f"gold cannot be built in an object-store lake yet (`{lake.root}`): dbt needs a local "
            "DuckDB file. Run the land, bronze and silver stages there, and gold from a local lake.",
            uri=lake.root,
        )

    if not views_built:
        build_views(lake, log, rep, details, user)
    blocked = blocked or {}
    rep.start("gold", "dbt build", None)
    with log.step("gold", None, "gold/gold.duckdb") as step:
        result = run_gold(lake.root, views_root=lake.uri("silver/views"), cohorts_dir=cohorts_dir,
                          value_sets_dir=value_sets_dir,
                          dbt_vars={"quality_visit_classes": quality_visit_classes} if quality_visit_classes else None,
                          exclude=sorted(blocked) or None)
        step.rows_out = sum(result.row_counts.values())
    rep.finish()
    if blocked:
        details["blocked"] = _record_blocked(log, blocked, result.excluded)
    details["marts"] = dict(result.row_counts)
    if result.cohorts:
        details["cohorts"] = dict(result.cohorts)
    details["tests"] = {"passed": result.tests_passed, "failed": result.tests_failed}


def _record_blocked(log: RunLog, blocked: dict[str, list[str]], downstream: dict[str, list[str]]) -> dict[str, Any]:
    """One run-log row (status `blocked`) per mart a check stopped and per mart downstream of it."""
    out: dict[str, Any] = {}
    for mart, checks in sorted(blocked.items()):
        below = downstream.get(mart, [])
        out[mart] = {"checks": list(checks), "downstream": below}
        with log.step("gold", None, f"gold.{mart}") as step:
            step.status = "blocked"
            step.message = f"blocked by check(s) {', '.join(checks)}"
        for model in below:
            with log.step("gold", None, f"gold.{model}") as step:
                step.status = "blocked"
                step.message = f"downstream of gold.{mart}, blocked by check(s) {', '.join(checks)}"
    return out
