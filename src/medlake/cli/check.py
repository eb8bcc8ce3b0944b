"""`medlake check`: run the data-quality checks and print the failures (registered in cli/main.py).

Prints one summary line, then every failed or broken check: id, severity, source, sentence and
the query that shows the failing rows. Counts and names only, never a data value. Exit codes:
0 when no error-severity check failed, 1 when one did, 2 when the checks cannot run at all (a
bad check file, an unknown id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from medlake.quality.model import CheckResult


def check(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")] = Path("medlake.yaml"),
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Only this check id or pattern, e.g. `patient.*` (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Every result as JSON instead of the failures as text.")] = False,
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks (id, table, kind, severity, blocks) without running them.")] = False,
) -> None:
    """Run the data-quality checks on the lake and print the failures.

    Results are stored in meta.check_results. Exits 1 when an error-severity check failed.

    Example: medlake check -c ./acme/medlake.yaml --only 'patient.*'
    """
    from medlake.cli.main import _fail, _tenant
    from medlake.config import load_config
    from medlake.errors import MedlakeError
    from medlake.quality.load import load_checks
    from medlake.quality.run import run_checks, select_checks

    try:
        project = load_config(config)
        name = _tenant(project, tenant)
        if list_checks:
            for spec in select_checks(load_checks(project, name), only):
                blocks = f" blocks {', '.join(spec.blocks)}" if spec.blocks else ""
                typer.echo(f"{spec.id}  {spec.table}  {spec.kind}  {spec.severity}{blocks}  ({spec.origin})")
            return
        report = run_checks(project, name, only=only)
    except MedlakeError as e:
        raise _fail(e) from None
    if as_json:
        doc = {
            "run_id": report.run_id,
            "tenant": report.tenant,
            "counts": report.counts(),
            "blocked": report.blocked,
            "results": [_as_dict(r) for r in report.results],
        }
        typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(f"run {report.run_id} · tenant {report.tenant} · {report.summary_line()}")
        for r in report.results:
            if r.status in ("fail", "error"):
                typer.echo(f"{r.status.upper()} {r.check_id} [{r.severity}]" + (f" · {r.group}" if r.group else ""))
                typer.echo(f"  {r.sentence}")
                if r.query:
                    typer.echo(f"  query: {r.query}")
        for mart, ids in report.blocked.items():
            typer.echo(f"blocks gold.{mart}: {', '.join(ids)}")
    if any(r.status == "fail" and r.severity == "error" for r in report.results):
        raise typer.Exit(1)


def _as_dict(r: CheckResult) -> dict[str, object]:
    return {
        "check_id": r.check_id,
        "table": r.table,
        "source": r.group,
        "category": r.category,
        "dimension": r.dimension,
        "severity": r.severity,
        "status": r.status,
        "failing": r.failing,
        "total": r.total,
        "threshold_pct": r.threshold_pct,
        "sentence": r.sentence,
        "query": r.query,
        "blocks": list(r.blocks),
    }
