"""Rich rendering for the CLI: progress bars, run summaries and query results."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from medlake.pipeline import RunSummary
from medlake.silver.schema import table_name


class RichReporter:
    """The pipeline's `Reporter`, drawn as Rich progress bars (transient: the summary stays)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task: Any = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, stage: str, label: str, total: int | None) -> None:
        self.task = self.progress.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def finish(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, list | dict):
        return orjson.dumps(v, default=str).decode()
    return str(v)


def result_table(columns: list[str], rows: list[tuple[Any, ...]], title: str | None = None) -> Table:
    t = Table(title=title, show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*(_fmt(v) for v in r))
    return t


def rows_as_json(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    def default(o: Any) -> Any:
        if isinstance(o, decimal.Decimal):
            return float(o)
        if isinstance(o, dt.date | dt.datetime | dt.time):
            return o.isoformat()
        return str(o)

    return orjson.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=default, option=orjson.OPT_INDENT_2).decode()


def summary_tables(summary: RunSummary) -> list[Table]:
    out: list[Table] = []
    timing = Table(title="seconds per stage")
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for s in summary.stages:
        timing.add_row(s.stage, f"{s.seconds:,.1f}")
    out.append(timing)
    land = summary.stage("land")
    if land:
        t = Table(title="landing")
        for c in ("source", "files", "new", "duplicates"):
            t.add_column(c, justify="right" if c != "source" else "left")
        for src, d in land.details.items():
            t.add_row(src, _fmt(d["files"]), _fmt(d["new"]), _fmt(d["duplicates"]))
        out.append(t)
    bronze = summary.stage("bronze")
    if bronze:
        t = Table(title="bronze")
        for c in ("table", "rows"):
            t.add_column(c, justify="right" if c == "rows" else "left")
        for src, d in bronze.details.items():
            for kind, n in sorted(d.get("tables", {}).items()):
                t.add_row(f"bronze.{src}__{kind}", _fmt(n))
            if d.get("duplicates"):
                t.add_row(f"(already in bronze, skipped) {src}", f"{d['duplicates']:,} records")
            if d.get("pending"):
                t.add_row(f"(landed, awaiting parser) {src}", f"{d['pending']:,} objects")
        out.append(t)
    silver = summary.stage("silver")
    if silver:
        totals: dict[str, int] = {}
        for d in silver.details.values():
            for k, v in d.get("by_type", {}).items():
                totals[k] = totals.get(k, 0) + v
        t = Table(title="silver (resources written this run)")
        t.add_column("table")
        t.add_column("rows", justify="right")
        for k, v in sorted(totals.items()):
            t.add_row(f"silver.{table_name(k)}", _fmt(v))
        if not totals:
            t.add_row("(nothing new: every record already in silver)", "0")
        unmapped = sum(d.get("unmapped_segments", 0) for d in silver.details.values())
        if unmapped:
            t.add_row("(segments left in bronze, see meta.unmapped)", _fmt(unmapped))
        adjusted = sum(d.get("time_adjusted", 0) for d in silver.details.values())
        if adjusted:
            t.add_row("(local times adjusted for DST, see meta.time_adjustments)", _fmt(adjusted))
        added = sum(d.get("codings_added", 0) for d in silver.details.values())
        if added:
            t.add_row("(normalized codings added beside source codes)", _fmt(added))
        late = sum(d.get("late_arrivals", 0) for d in silver.details.values())
        if late:
            t.add_row("(late arrivals kept in history, not current)", _fmt(late))
        out.append(t)
    identity = summary.stage("identity")
    if identity and identity.details:
        d = identity.details
        t = Table(title="identity (master patient index)")
        t.add_column("what")
        t.add_column("count", justify="right")
        t.add_row("silver patients matched", _fmt(d.get("records", 0)))
        t.add_row("enterprise persons", _fmt(d.get("persons", 0)))
        t.add_row("HL7 merges (A40 …) honoured", _fmt(d.get("a40_merges", 0)))
        t.add_row("crosswalk rows changed this run", _fmt(d.get("crosswalk_changed", 0)))
        t.add_row("pairs on the review list (medlake identity review)", _fmt(d.get("review_open", 0)))
        out.append(t)
    out.extend(_check_tables(summary))
    gold = summary.stage("gold")
    if gold:
        t = Table(title="views and gold")
        t.add_column("table")
        t.add_column("rows", justify="right")
        for k, v in gold.details.get("views", {}).items():
            t.add_row(f"views.{k}", _fmt(v))
        for k, v in gold.details.get("marts", {}).items():
            t.add_row(f"gold.{k}", _fmt(v))
        out.append(t)
        rejected = gold.details.get("views_rejected", {})
        if rejected:
            r = Table(title="views not built (fix the file; the other views were built)")
            r.add_column("problem")
            for message in rejected.values():
                r.add_row(str(message))
            out.append(r)
    return out


def _check_tables(summary: RunSummary) -> list[Table]:
    """The check stage: results per status, each failed check, and the marts it stopped."""
    out: list[Table] = []
    check = summary.stage("check")
    if check and "counts" in check.details:
        d = check.details
        t = Table(title=f"data-quality checks ({d.get('checks', 0)} checks; medlake check shows the queries)")
        for c in ("status", "check", "source", "sentence"):
            t.add_column(c, overflow="fold")
        counts = d["counts"]
        t.add_row("", f"{counts['pass']:,} pass · {counts['fail']:,} fail · {counts['not_applicable']:,} n/a · "
                  f"{counts['error']:,} error", "", "")
        for f in d.get("failures", []):
            t.add_row(f"{f['severity']}", f["check_id"], f["source"] or "", f["sentence"])
        out.append(t)
    gold = summary.stage("gold")
    blocked = gold.details.get("blocked", {}) if gold else {}
    if blocked:
        t = Table(title="gold marts not built: stopped by a failed error-severity check")
        t.add_column("mart")
        t.add_column("stopped by", overflow="fold")
        t.add_column("also not built (downstream)", overflow="fold")
        for mart, info in blocked.items():
            t.add_row(f"gold.{mart}", ", ".join(info["checks"]), ", ".join(f"gold.{m}" for m in info["downstream"]))
        out.append(t)
    return out
