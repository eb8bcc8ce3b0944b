"""`run(project, tenant, stages, sources)` — the one core that the CLI and Dagster both call.

Stages, in order (each reads only the layer before it):

    land    sources → landing (content-addressed, immutable) + manifest
    bronze  landing → bronze (as-is records with lineage); bad records quarantined
    silver  bronze → FHIR R4 resources (current + history)
    identity  silver Patients → enterprise persons (crosswalk, review list, golden Person)
    check   silver → flat views; data-quality checks (YAML, docs/quality.md) → _meta/check_results
    gold    flat views (built here when `check` did not run) → dbt marts in gold/gold.duckdb,
            minus the marts a failed error-severity check blocks and everything downstream
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from medlake.config import ProjectConfig, SourceConfig, TenantConfig
from medlake.errors import ConfigError
from medlake.lake.lock import tenant_lock
from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RunLog, new_run_id

STAGES: tuple[str, ...] = ("land", "bronze", "silver", "identity", "check", "gold")


class Reporter(Protocol):
    """Progress hooks; the CLI draws Rich progress bars with them. Counts only, no values."""

    def start(self, stage: str, label: str, total: int | None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NullReporter:
    def start(self, stage: str, label: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class StageResult:
    stage: str
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    run_id: str
    tenant: str
    lake_root: str
    stages: list[StageResult] = field(default_factory=list)

    def stage(self, name: str) -> StageResult | None:
        return next((s for s in self.stages if s.stage == name), None)


def open_lake(project: ProjectConfig, tenant: str) -> TenantLake:
    return TenantLake.open(project.lake_uri(), tenant, project.storage_options)


def run(
    project: ProjectConfig,
    tenant_name: str,
    stages: Sequence[str] = STAGES,
    sources: Sequence[str] | None = None,
    reporter: Reporter | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Run `stages` for one tenant (optionally only some of its sources).

    Bronze and silver run sources in parallel in `workers` processes (default: the
    `MEDLAKE_WORKERS` environment variable, else the number of CPUs, at most 4). Workers are
    spawned, so a script that calls `run` must guard its top level with
    `if __name__ == "__main__":` (or pass `workers=1`).
    """
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(unknown)}; stages are: {', '.join(STAGES)}")
    rep = reporter or NullReporter()
    tenant = project.tenant(tenant_name)
    selected = [tenant.source(s) for s in sources] if sources else list(tenant.sources)
    lake = open_lake(project, tenant_name)
    run_id = new_run_id()
    log = RunLog(lake, run_id)
    summary = RunSummary(run_id, tenant_name, lake.root)
    n_workers = workers if workers is not None else default_workers()
    from medlake.observability.alerts import alert_for_run

    with tenant_lock(lake, run_id):
        try:
            _run_stages(project, tenant, selected, lake, log, rep, summary, stages, n_workers)
        except BaseException as e:
            log.finish("failed", type(e).__name__)
            if isinstance(e, Exception):
                alert_for_run(project, tenant_name, e, run_id=run_id)
            raise
        log.finish()
        alert_for_run(project, tenant_name, summary)
    return summary


def _run_stages(project: ProjectConfig, tenant: TenantConfig, selected: list[SourceConfig], lake: TenantLake,
                log: RunLog, rep: Reporter, summary: RunSummary, stages: Sequence[str], n_workers: int) -> None:
    for stage in STAGES:
        if stage not in stages:
            continue
        t0 = time.perf_counter()
        result = StageResult(stage)
        if stage in _PER_SOURCE:
            _run_per_source(stage, project, tenant, selected, lake, log, rep, result, n_workers)
        elif stage in _SUMMARY_STAGES:
            _SUMMARY_STAGES[stage](project, tenant, lake, log, rep, result, summary)
        else:
            _STAGE_FUNCS[stage](project, tenant, selected, lake, log, rep, result)
        result.seconds = time.perf_counter() - t0
        summary.stages.append(result)


def _land(project: ProjectConfig, tenant: TenantConfig, sources: list[SourceConfig], lake: TenantLake,
          log: RunLog, rep: Reporter, result: StageResult) -> None:
    from medlake.lake.landing import LandingStore
    from medlake.sources.files import find_files, land_files

    store = LandingStore(lake)
    for src in sources:
        location = project.resolve_location(src.location)
        total = sum(1 for _ in find_files(location))
        rep.start("land", f"land {src.name}", total)
        with log.step("land", src.name, f"landing/{src.name}") as step:
            landed = land_files(store, src.name, location, on_file=lambda _f: rep.advance())
            store.flush()
            step.rows_in = total
            step.rows_out = sum(1 for x in landed if x.new)
        rep.finish()
        result.details[src.name] = {"files": total, "new": step.rows_out, "duplicates": sum(1 for x in landed if not x.new)}


def default_workers() -> int:
    env = os.environ.get("MEDLAKE_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ConfigError(f"MEDLAKE_WORKERS=`{env}` is not a number of processes; use e.g. 2") from None
    return max(1, min(os.cpu_count() or 1, 4))


def _bronze_one(project: ProjectConfig, tenant: TenantConfig, src: SourceConfig, lake: TenantLake,
                log: RunLog, tick: Callable[[int], None]) -> dict[str, Any]:
    from medlake.bronze.stage import run_bronze

    with log.step("bronze", src.name, f"bronze/{src.name}__*") as step:
        stats = run_bronze(project, tenant, src, lake, log.run_id, on_object=lambda: tick(1))
        step.rows_in, step.rows_out = stats.objects, stats.rows
        step.quarantined = stats.quarantined_records + stats.quarantined_objects
    return dict(stats.__dict__)


def _silver_one(project: ProjectConfig, tenant: TenantConfig, src: SourceConfig, lake: TenantLake,
                log: RunLog, tick: Callable[[int], None]) -> dict[str, Any]:
    from medlake.silver.stage import run_silver

    with log.step("silver", src.name, "silver/fhir") as step:
        stats = run_silver(project, tenant, src, lake, log.run_id, on_rows=tick)
        step.rows_in, step.rows_out, step.quarantined = stats.rows_in, stats.inserted + stats.updated, stats.quarantined
    return dict(stats.__dict__)


_PER_SOURCE = {"bronze": _bronze_one, "silver": _silver_one}


def _source_groups(sources: list[SourceConfig], tenant: TenantConfig, weight: Callable[[SourceConfig], int]) -> list[list[SourceConfig]]:
    """Sources that share a system URI write the same ids: they run in one task, in order.

    Groups come heaviest first (longest-processing-time-first keeps the workers evenly busy).
    """
    groups: dict[str, list[SourceConfig]] = {}
    for s in sources:
        groups.setdefault(tenant.system_of(s), []).append(s)
    return sorted(groups.values(), key=lambda g: (-sum(weight(s) for s in g), g[0].name))


def _bytes_under(lake: TenantLake, prefix: str) -> int:
    """Bytes stored under a local lake folder (0 for object stores: order by name there)."""
    from pathlib import Path

    if "://" in lake.root:
        return 0
    base = Path(lake.uri(""))
    return sum(p.stat().st_size for p in base.glob(prefix) if p.is_file())


def _source_task(stage: str, project: ProjectConfig, tenant_name: str, names: list[str], run_id: str) -> dict[str, Any]:
    """One worker's share of a stage (runs in a spawned process)."""
    from medlake.observability.logs import configure_from_env

    configure_from_env()
    tenant = project.tenant(tenant_name)
    lake = open_lake(project, tenant_name)
    log = RunLog(lake, run_id)
    return {n: _PER_SOURCE[stage](project, tenant, tenant.source(n), lake, log, lambda _n: None) for n in names}


def _run_per_source(stage: str, project: ProjectConfig, tenant: TenantConfig, sources: list[SourceConfig],
                    lake: TenantLake, log: RunLog, rep: Reporter, result: StageResult, workers: int) -> None:
    layer = "landing/{}/**/*" if stage == "bronze" else "bronze/{}__*/*.parquet"
    groups = _source_groups(sources, tenant, lambda src: _bytes_under(lake, layer.format(src.name)))
    if workers <= 1 or len(groups) <= 1:
        for src in sources:
            rep.start(stage, f"{stage} {src.name}", None)
            result.details[src.name] = _PER_SOURCE[stage](project, tenant, src, lake, log, rep.advance)
            rep.finish()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # delta-rs panics after fork: workers are spawned
    rep.start(stage, f"{stage} ({min(workers, len(groups))} workers)", len(sources))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=ctx) as pool:
        futures = {
            pool.submit(_source_task, stage, project, tenant.name, [s.name for s in g], log.run_id): g for g in groups
        }
        for fut in as_completed(futures):
            result.details.update(fut.result())
            rep.advance(len(futures[fut]))
    result.details = {s.name: result.details[s.name] for s in sources}
    rep.finish()


def _check(project: ProjectConfig, tenant: TenantConfig, lake: TenantLake, log: RunLog, rep: Reporter,
           result: StageResult, summary: RunSummary) -> None:
    """This run's flat views, then every data-quality check; results in `_meta/check_results`.

    `result.details`: `views` (rows per view), `counts` (results per status), `checks`,
    `failures` (check id, source, severity, sentence of each failed result, no values) and
    `blocked` (gold mart → ids of the failed error-severity checks that stop it)."""
    from medlake.gold.stage import build_views
    from medlake.quality.run import run_checks
    from medlake.silver.views.registry import tenant_views

    build_views(lake, log, rep, result.details, tenant_views(project, tenant.name))
    rep.start("check", "data-quality checks", None)
    with log.step("check", None, "meta.check_results") as step:
        report = run_checks(project, tenant.name, run_id=log.run_id)
        counts = report.counts()
        step.rows_in = len({r.check_id for r in report.results})
        step.rows_out = len(report.results)
        step.message = f"{counts['fail']} fail, {counts['error']} error, {len(report.blocked)} marts blocked"
    rep.finish()
    result.details.update({
        "checks": step.rows_in,
        "counts": counts,
        "failures": [
            {"check_id": r.check_id, "source": r.group, "severity": r.severity, "sentence": r.sentence}
            for r in report.results if r.status in ("fail", "error")
        ],
        "blocked": report.blocked,
    })


def _gold(project: ProjectConfig, tenant: TenantConfig, lake: TenantLake, log: RunLog, rep: Reporter,
          result: StageResult, summary: RunSummary) -> None:
    from medlake.gold.stage import build_gold
    from medlake.silver.views.registry import tenant_views

    cohorts = project.resolve_location(tenant.cohorts_dir) if tenant.cohorts_dir else None
    value_sets = project.resolve_location(tenant.value_sets_dir) if tenant.value_sets_dir else None
    check = summary.stage("check")
    views_built = check is not None and "views" in check.details
    if check is not None and views_built:
        # the views this run's checks looked at: gold reads exactly those
        result.details["views"] = dict(check.details["views"])
        if "views_rejected" in check.details:
            result.details["views_rejected"] = dict(check.details["views_rejected"])
    user = None if views_built else tenant_views(project, tenant.name)  # the check stage already read them
    build_gold(lake, log, rep, result.details, user, cohorts_dir=cohorts,
               value_sets_dir=value_sets, quality_visit_classes=tenant.quality_visit_classes,
               blocked=dict(check.details.get("blocked", {})) if check is not None else None,
               views_built=views_built)


def _identity(project: ProjectConfig, tenant: TenantConfig, sources: list[SourceConfig], lake: TenantLake,
              log: RunLog, rep: Reporter, result: StageResult) -> None:
    from medlake.silver.identity.matcher import MatchSettings
    from medlake.silver.identity.stage import run_identity

    rep.start("identity", "identity (match patients)", None)
    with log.step("identity", None, "silver/identity") as step:
        cfg = tenant.identity
        settings = MatchSettings(link_probability=cfg.link_probability, review_probability=cfg.review_probability)
        stats = run_identity(project, tenant, lake, log.run_id, source_ranking=cfg.source_ranking or None, settings=settings)
        step.rows_in, step.rows_out = stats.records, stats.persons
    rep.finish()
    result.details.update({"records": stats.records, "persons": stats.persons, "a40_merges": stats.a40_merges,
                           "crosswalk_changed": stats.crosswalk_changed, "review_open": stats.review_open,
                           "events": dict(stats.events)})


_STAGE_FUNCS = {"land": _land, "identity": _identity}
_SUMMARY_STAGES = {"check": _check, "gold": _gold}  # stages that read what earlier stages of the call found
