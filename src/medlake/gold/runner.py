"""Run the gold dbt project (`medlake_gold`, shipped in `project/`) in-process.

    result = run_gold("lake/acme")          # views under lake/acme/silver/views/
    result.row_counts["patient_360"]

The runner writes the dbt profile into `<tenant_root>/gold/_dbt/` (DuckDB file
`<tenant_root>/gold/gold.duckdb`, dbt-duckdb's `delta` plugin, extension auto-install and
auto-load off, time zone UTC) and keeps dbt's target and log folders there too, never in the
installed package. Schemas in gold.duckdb: `gold` (marts), `gold_staging` (views),
`gold_ref` (seeds) and `gold_inputs` (the flat views the run read, copied by the delta plugin).
Note the database itself is named `gold` too (after the file), so outside dbt write
`gold.gold.patient_360`, or attach the file under another name. dbt's own log file can hold data values (a failing query's error text);
it stays in the tenant's folder. The medlake logger only ever gets counts and node names.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from medlake.errors import MedlakeError, Terminal

log = logging.getLogger(__name__)

PROJECT_NAME = "medlake_gold"
GOLD_SCHEMA = "gold"
INPUT_SCHEMA = "gold_inputs"  # where the delta plugin copies the flat views at the start of a run
SOURCE_VIEWS: tuple[str, ...] = (
    "patient",
    "encounter",
    "condition",
    "observation",
    "medication_request",
    "medication_dispense",
    "procedure",
    "immunization",
    "organization",
    "practitioner",
    "claim",
    "claim_line",
    "claim_version",
    "explanation_of_benefit",
    "eob_version",
    "eob_adjustment",
    "payment",
    "claim_response_version",
    "person",
    "person_xref",
    "coverage",
)
"""Flat views the project reads (each must exist as a Delta table under `views_root`)."""


class GoldBuildError(MedlakeError, Terminal):
    """The gold dbt build failed; `failed_nodes` names the models/tests that did not pass."""


@dataclass(frozen=True)
class GoldTestResult:
    """One dbt data test: its node name, status and failing-row count (never the rows)."""

    name: str
    status: str
    failures: int | None = None


@dataclass(frozen=True)
class GoldResult:
    """What `run_gold` did."""

    gold_path: Path
    models: dict[str, str] = field(default_factory=dict)  # model/seed name -> status
    row_counts: dict[str, int] = field(default_factory=dict)  # mart -> rows
    tests: list[GoldTestResult] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    cohorts: dict[str, int] = field(default_factory=dict)  # YAML cohort -> persons
    excluded: dict[str, list[str]] = field(default_factory=dict)  # excluded model -> models downstream of it, not built

    @property
    def tests_passed(self) -> int:
        """How many data tests passed."""
        return sum(t.status == "pass" for t in self.tests)

    @property
    def tests_warned(self) -> int:
        """How many data tests found rows but are configured as warnings."""
        return sum(t.status == "warn" for t in self.tests)

    @property
    def tests_failed(self) -> int:
        """How many data tests failed or errored (a successful run has none)."""
        return sum(t.status in ("fail", "error") for t in self.tests)


def project_dir() -> Path:
    """Folder of the shipped dbt project (read-only is fine)."""
    return Path(str(resources.files("medlake.gold").joinpath("project")))


def project_models() -> list[str]:
    """Names of the project's models (passed to dbt as var `gold_models`: kpi_executive refs
    the optional marts only when they are listed)."""
    return sorted(p.stem for p in (project_dir() / "models").rglob("*.sql"))


def _profile_yaml(db_path: Path, threads: int) -> str:
    profile = {
        PROJECT_NAME: {
            "target": "tenant",
            "outputs": {
                "tenant": {
                    "type": "duckdb",
                    "path": str(db_path),
                    "schema": GOLD_SCHEMA,
                    "threads": threads,
                    "plugins": [{"module": "delta"}],
                    "extensions": [],
                    "settings": {
                        "autoinstall_known_extensions": False,
                        "autoload_known_extensions": False,
                        "TimeZone": "UTC",
                    },
                }
            },
        }
    }
    # JSON is valid YAML; it needs no YAML writer.
    return json.dumps(profile, indent=2)


def _missing_views(views_root: str) -> list[str]:
    if "://" in views_root:  # object storage: let delta-rs report what is missing
        return []
    root = Path(views_root)
    return [v for v in SOURCE_VIEWS if not (root / v / "_delta_log").is_dir()]


def _node_status(result: Any) -> str:
    status = result.status
    return str(getattr(status, "value", status))


def _release_duckdb() -> None:
    """dbt-duckdb keeps the DuckDB instance of gold.duckdb open in a class attribute after
    the run; close it so the file can be opened again (by us, by the catalog, by another
    process)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        try:
            env.close()
        finally:
            DuckDBConnectionManager.close_all_connections()


def _row_counts(db_path: Path, marts: list[str]) -> dict[str, int]:
    from medlake.lake.catalog import duckdb_connect

    con = duckdb_connect()
    try:
        # attached under its own name: the file's default catalog name `gold` would clash
        # with the schema `gold` in two-part names
        con.execute("ATTACH ? AS medlake_gold_db (READ_ONLY)", [str(db_path)])
        counts: dict[str, int] = {}
        for mart in marts:
            row = con.execute(
                f'SELECT count(*) FROM medlake_gold_db."{GOLD_SCHEMA}"."{mart}"'
            ).fetchone()
            counts[mart] = int(row[0]) if row else 0
        return counts
    finally:
        con.close()


def _downstream(manifest_path: Path, names: list[str]) -> dict[str, list[str]]:
    """For each model name, the models downstream of it (from dbt's manifest child map)."""
    if not names:
        return {}
    try:
        child_map: dict[str, list[str]] = json.loads(manifest_path.read_text(encoding="utf-8")).get("child_map", {})
    except (OSError, ValueError):
        return {name: [] for name in names}
    prefix = f"model.{PROJECT_NAME}."
    out: dict[str, list[str]] = {}
    for name in names:
        seen: set[str] = set()
        todo = [prefix + name]
        while todo:
            for child in child_map.get(todo.pop(), []):
                if child.startswith(prefix) and child not in seen:
                    seen.add(child)
                    todo.append(child)
        out[name] = sorted(c[len(prefix):] for c in seen)
    return out


def _write_user_value_sets(db_path: Path, value_sets_dir: str | Path | None) -> None:
    """The tenant's value-set files into gold.duckdb (an empty table when there are none),
    where the quality models read them."""
    from medlake.gold.value_sets import load_value_sets, write_value_sets
    from medlake.lake.catalog import duckdb_connect

    members = load_value_sets(value_sets_dir)
    con = duckdb_connect(str(db_path))
    try:
        write_value_sets(con, members)
    finally:
        con.close()
    if members:
        log.info("user value sets: %d members from %s", len(members), value_sets_dir)


def run_gold(
    tenant_root: str | Path,
    *,
    views_root: str | None = None,
    select: str | None = None,
    threads: int = 2,
    cohorts_dir: str | Path | None = None,
    dbt_vars: dict[str, Any] | None = None,
    value_sets_dir: str | Path | None = None,
    exclude: list[str] | None = None,
) -> GoldResult:
    """`dbt build` the gold project for one tenant, in this process.

    `views_root` defaults to `<tenant_root>/silver/views`; `select` is a dbt selection
    (e.g. `"+patient_360"`). `cohorts_dir` holds the tenant's YAML cohorts
    (`medlake.gold.cohorts`): validated before dbt runs (a bad file raises `CohortError`),
    materialized into `gold.cohort_custom_members` after it. `dbt_vars` adds project vars
    (e.g. `quality_period_start`); `value_sets_dir` is the tenant's folder of value-set CSV
    files for the quality measures (`medlake.gold.value_sets`, a bad file raises
    `ConfigError`). `exclude` names models that must not be built this run (blocked by a
    data-quality check): they and everything downstream of them are left out (`--exclude
    model+`), their tables keep the last build's rows, and `GoldResult.excluded` lists what
    each one held back. Raises `GoldBuildError` naming the failed nodes.
    """
    started = time.perf_counter()
    tenant_root = Path(tenant_root)
    gold_dir = tenant_root / "gold"
    dbt_dir = gold_dir / "_dbt"
    db_path = gold_dir / "gold.duckdb"
    views = views_root if views_root is not None else str(tenant_root / "silver" / "views")

    missing = _missing_views(views)
    if missing:
        raise GoldBuildError(
            f"flat views missing under `{views}`: {', '.join(missing)}. Build them first with "
            "`medlake.silver.views.flat.write_views(con, views_root)` (it writes every view, "
            "empty ones included).",
            views_root=views,
            missing_views=missing,
        )

    from medlake.gold import cohorts as yaml_cohorts

    custom = yaml_cohorts.load_cohorts_dir(cohorts_dir) if cohorts_dir is not None else []

    dbt_dir.mkdir(parents=True, exist_ok=True)
    (dbt_dir / "profiles.yml").write_text(_profile_yaml(db_path, threads), encoding="utf-8")
    _write_user_value_sets(db_path, value_sets_dir)

    from dbt.cli.main import dbtRunner  # slow import: only when building gold

    args = [
        "build",
        "--project-dir", str(project_dir()),
        "--profiles-dir", str(dbt_dir),
        "--target-path", str(dbt_dir / "target"),
        "--log-path", str(dbt_dir / "logs"),
        "--vars", json.dumps(
            {**(dbt_vars or {}), "views_root": views.rstrip("/"), "gold_models": project_models()}
        ),
        "--threads", str(threads),
        "--quiet",
        "--log-level", "none",  # failing queries can quote data values: nothing to stdout
        "--log-level-file", "info",  # the full log stays in the tenant's gold/_dbt/logs
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
    ]  # fmt: skip
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", *(f"{name}+" for name in exclude)]

    try:
        outcome = dbtRunner().invoke(args)
    finally:
        _release_duckdb()

    models: dict[str, str] = {}
    tests: list[GoldTestResult] = []
    marts: list[str] = []
    failed: list[str] = []
    for node_result in getattr(outcome.result, "results", None) or []:
        node = node_result.node
        status = _node_status(node_result)
        if node.resource_type == "operation":  # the on-run-start hook
            if status not in ("success", "pass"):
                failed.append(node.name)
            continue
        if node.resource_type == "test":
            tests.append(GoldTestResult(node.name, status, getattr(node_result, "failures", None)))
            if status in ("fail", "error"):
                failed.append(node.name)
        else:
            models[node.name] = status
            if status == "success" and node.resource_type == "model" and "marts" in node.fqn:
                marts.append(node.name)
            if status not in ("success", "pass", "skipped", "no-op"):
                failed.append(node.name)

    elapsed = time.perf_counter() - started
    if not outcome.success or outcome.exception is not None:
        log.error(
            "gold build failed: %d failed nodes (%s); see the dbt log under %s",
            len(failed),
            ", ".join(sorted(failed)) or "dbt did not start",
            dbt_dir / "logs",
        )
        raise GoldBuildError(
            "gold dbt build failed"
            + (f": {', '.join(sorted(failed))}" if failed else " before running any node")
            + f". Details (may contain data values) are in `{dbt_dir / 'logs' / 'dbt.log'}`.",
            failed_nodes=sorted(failed),
            dbt_log=str(dbt_dir / "logs" / "dbt.log"),
            exception_type=type(outcome.exception).__name__ if outcome.exception else None,
        )

    counts = _row_counts(db_path, sorted(marts))
    cohort_counts = yaml_cohorts.materialize(db_path, custom) if select is None or custom else {}
    elapsed = time.perf_counter() - started
    result = GoldResult(
        gold_path=db_path,
        models=models,
        row_counts=counts,
        tests=tests,
        elapsed_seconds=elapsed,
        cohorts=cohort_counts,
        excluded=_downstream(dbt_dir / "target" / "manifest.json", exclude or []),
    )
    log.info(
        "gold built in %.1fs: %d models/seeds, %d tests (%d warn), marts %s",
        elapsed,
        len(models),
        len(tests),
        sum(t.status == "warn" for t in tests),
        ", ".join(f"{k}={v}" for k, v in counts.items()),
    )
    return result
