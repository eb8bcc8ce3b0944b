"""The report `medlake demo` prints: what landed, rows per layer, quarantine, timings, one Patient 360."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from medlake.cli.output import _fmt, summary_tables
from medlake.config import ProjectConfig
from medlake.lake.catalog import connect
from medlake.pipeline import RunSummary, open_lake


def print_demo_report(console: Console, project: ProjectConfig, summary: RunSummary, synth_s: float) -> None:
    console.print(
        f"[bold]medlake demo[/] · run {summary.run_id} · synthesized sources in {synth_s:,.1f}s · "
        f"lake at {summary.lake_root}",
        soft_wrap=True,
    )
    for t in summary_tables(summary):
        console.print(t)
    check = summary.stage("check")
    if check is not None and "counts" in check.details:
        c, gold = check.details["counts"], summary.stage("gold")
        blocked = sorted(gold.details.get("blocked", {})) if gold is not None else []
        console.print(
            f"Data quality: {check.details.get('checks', 0)} checks, {c['pass']:,} pass, {c['fail']:,} fail, "
            f"{c['error']:,} error; marts blocked: {', '.join(blocked) or 'none'} (details: medlake check)",
            soft_wrap=True,
        )
    con = connect(open_lake(project, summary.tenant))
    _quarantine(console, con)
    _measure_rates(console, con)
    _patient_360(console, con)
    console.print(
        f'Query it: medlake sql -c {project.base_dir}/medlake.yaml "select * from gold.patient_360 limit 5"',
        soft_wrap=True,
    )


def _quarantine(console: Console, con: Any) -> None:
    try:
        rows = con.execute(
            "select source, object_name, position, "
            "regexp_replace(reason, '^`?[^`:]+`?: [^:]+: ', '') from meta.quarantine "
            "order by source, object_name, record_index limit 12"
        ).fetchall()
        total = con.execute("select count(*) from meta.quarantine").fetchone()[0]
    except Exception:
        rows, total = [], 0
    t = Table(title=f"quarantined: {total:,} item(s) (first {len(rows)})")
    for c in ("source", "object", "position", "reason"):
        t.add_column(c, overflow="fold", no_wrap=c != "reason")
    for r in rows:
        t.add_row(*(str(v) for v in r))
    console.print(t)


def _rate(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.1%}"


def _measure_rates(console: Console, con: Any) -> None:
    """Quality-measure rates and the 30-day readmission rate, from whichever of
    gold.quality_measure_summary / gold.readmission_summary the build produced."""
    rows: list[tuple[str, str, str, str]] = []
    try:
        for mid, name, start, end, denom, excl, num, rate, inverse in con.execute(
            "select measure_id, measure_name, period_start, period_end, denominator, "
            "denominator_exclusions, numerator, performance_rate, inverse "
            "from gold.quality_measure_summary order by measure_id, period_start"
        ).fetchall():
            label = f"{mid} {name}" + (" (inverse: lower is better)" if inverse else "")
            rows.append((label, f"{start}..{end}", f"{_fmt(num)} / {_fmt((denom or 0) - (excl or 0))}", _rate(rate)))
    except Exception:
        pass  # no quality marts in this build
    try:
        for start, end, stays, readmits, rate in con.execute(
            "select period_start, period_end, index_stays, readmissions_30d, readmission_rate "
            "from gold.readmission_summary"
        ).fetchall():
            rows.append(("30-day all-cause readmissions", f"{start}..{end}", f"{_fmt(readmits)} / {_fmt(stays)}", _rate(rate)))
    except Exception:
        pass  # no readmission marts in this build
    if not rows:
        return
    t = Table(title="quality measures and readmissions (synthetic data)")
    for c in ("measure", "period", "num / denom", "rate"):
        t.add_column(c, justify="right" if c in ("rate", "num / denom") else "left")
    for r in rows:
        t.add_row(*r)
    console.print(t)


def _patient_360(console: Console, con: Any) -> None:
    try:
        cur = con.execute(
            "select * from gold.patient_360 "
            "order by patient_count desc, active_problem_count desc, encounters_total desc, person_id limit 1"
        )
    except Exception:
        try:
            cur = con.execute("select * from gold.patient_360 limit 1")
        except Exception as e:
            console.print(f"(no gold.patient_360: {type(e).__name__})")
            return
    cols = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        console.print("(gold.patient_360 is empty)")
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for c, v in zip(cols, row, strict=True):
        if v is not None and v != [] and v != "":
            grid.add_row(c, _fmt(v))
    console.print(Panel(grid, title="a sample Patient 360: one enterprise person (synthetic)"))
