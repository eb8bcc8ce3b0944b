"""`medlake views …`: the SQL-on-FHIR v2 ViewDefinition engine.

    medlake views test DIR [--engine python|sql|both] --report FILE   run suite test files, write a report

Registered in cli/main.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from medlake.silver.views.engine.conformance import CaseResult

views_app = typer.Typer(
    help="SQL-on-FHIR v2 ViewDefinitions: run the conformance suite.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@views_app.command("test")
def test(
    directory: Annotated[Path, typer.Argument(help="A folder of suite test files (or the suite root holding tests/).")],
    report: Annotated[Path | None, typer.Option("--report", "-r", help="Write the report (test-report.schema.json) here.")] = None,
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="python (reference evaluator), sql (compiled to DuckDB SQL), or both.")
    ] = "python",
) -> None:
    """Run SQL-on-FHIR v2 test files with the reference evaluator, the SQL compiler, or both; one line per file.

    With `--engine both` a case passes only when it passes with both executors. Exits 1 when a case fails.

    Example: medlake views test ../shared/conformance/sql-on-fhir-v2/tests --engine both --report test_report.json
    """
    from medlake.cli.main import _fail, console
    from medlake.errors import MedlakeError
    from medlake.silver.views.engine.conformance import report as make_report

    try:
        results = _run(directory, engine)
    except MedlakeError as e:
        raise _fail(e) from None
    by_file: dict[str, list[bool]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r.passed)
    for name, passed in by_file.items():
        mark = "ok  " if all(passed) else "FAIL"
        console.out(f"{mark} {name}: {sum(passed)}/{len(passed)}", highlight=False)
    for r in results:
        if not r.passed:
            console.out(f"  failed {r.file} · {r.name}: {r.error}", highlight=False)
    total = sum(r.passed for r in results)
    console.out(f"passed {total}/{len(results)} cases in {len(by_file)} files", highlight=False)
    if report is not None:
        report.write_text(json.dumps(make_report(results), indent=2) + "\n", encoding="utf-8")
        console.out(f"wrote {report}", highlight=False)
    if total != len(results):
        raise typer.Exit(1)


def _run(directory: Path, engine: str) -> list[CaseResult]:
    """The suite's results with `engine`; with both, a case fails when either executor fails it."""
    from medlake.errors import MedlakeError
    from medlake.silver.views.engine.compile_sql import run_view_sql
    from medlake.silver.views.engine.conformance import run_suite
    from medlake.silver.views.engine.evaluate import run_view

    if engine not in ("python", "sql", "both"):
        raise MedlakeError(f"unknown engine `{engine}`; use --engine python, sql or both", engine=engine)
    if engine != "both":
        return run_suite(directory, runner=run_view if engine == "python" else run_view_sql)
    python, sql = run_suite(directory, runner=run_view), run_suite(directory, runner=run_view_sql)
    return [_both(p, q) for p, q in zip(python, sql, strict=True)]


def _both(python: CaseResult, sql: CaseResult) -> CaseResult:
    errors = [f"[{name}] {r.error}" for name, r in (("python", python), ("sql", sql)) if not r.passed]
    return replace(python, passed=not errors, error="; ".join(errors) or None)
