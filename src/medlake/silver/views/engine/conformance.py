"""Run SQL-on-FHIR v2 suite files (tests.schema.json format) with the reference evaluator.

The report follows the suite's test-report.schema.json:
`{"basic.json": {"tests": [{"name": title, "result": {"passed": bool, "error"?: str}}]}}`.
Rows compare as multisets (order ignored; arrays inside a row are order-sensitive), and
`expectColumns` checks the column order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlake.errors import MedlakeError
from medlake.silver.views.engine.evaluate import Row, run_view

Runner = Callable[[dict[str, Any], list[dict[str, Any]]], list[Row]]


@dataclass(frozen=True)
class CaseResult:
    file: str
    name: str
    passed: bool
    error: str | None = None
    tags: tuple[str, ...] = ()


def load_suite_file(path: Path) -> dict[str, Any]:
    """One suite file as JSON; raises `MedlakeError` naming the file when it is not a suite file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MedlakeError(f"cannot read suite file `{path}`: {e}", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise MedlakeError(f"`{path}` is not a SQL-on-FHIR test file: it needs a `tests` list", file=str(path))
    return data


def run_case(case: dict[str, Any], resources: list[dict[str, Any]], runner: Runner = run_view) -> str | None:
    """None when `case` passes, else why it failed."""
    try:
        rows = runner(case["view"], resources)
    except MedlakeError as e:
        return None if case.get("expectError") else f"unexpected error: {e.message}"
    except Exception as e:  # a crash is never the error a case expects: report it, keep going
        return f"internal error {type(e).__name__}: {e}"
    if case.get("expectError"):
        return "expected an error, but the view ran"
    columns = case.get("expectColumns")
    if columns is not None and rows and list(rows[0]) != columns:
        return f"expected columns {columns}, got {list(rows[0])}"
    if "expectCount" in case and len(rows) != case["expectCount"]:
        return f"expected {case['expectCount']} rows, got {len(rows)}"
    if "expect" in case:
        return _compare_rows(rows, case["expect"])
    return None


def _compare_rows(actual: list[Row], expected: list[Row]) -> str | None:
    if len(actual) != len(expected):
        return f"expected {len(expected)} rows, got {len(actual)}"
    got = sorted(_canonical(r) for r in actual)
    want = sorted(_canonical(r) for r in expected)
    for g, w in zip(got, want, strict=True):
        if g != w:
            return f"rows differ: expected {w}, got {g}"
    return None


def _canonical(row: Row) -> str:
    # 5 and 5.0 are the same JSON number
    return json.dumps({k: (float(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in row.items()}, sort_keys=True)


def run_file(path: Path, runner: Runner = run_view) -> list[CaseResult]:
    """Every case of one suite file, in file order."""
    data = load_suite_file(path)
    resources = data.get("resources", [])
    return [
        CaseResult(path.name, case.get("title", f"#{i}"), (error := run_case(case, resources, runner)) is None, error,
                   tuple(case.get("tags", [])))
        for i, case in enumerate(data["tests"])
    ]  # fmt: skip


def suite_files(directory: Path) -> list[Path]:
    """The suite's *.json test files under `directory` (its `tests/` folder if it has one)."""
    folder = directory / "tests" if (directory / "tests").is_dir() else directory
    files = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".schema.json"))
    if not files:
        raise MedlakeError(f"no *.json test files in `{folder}`; point at the suite's tests/ folder", file=str(folder))
    return files


def run_suite(directory: Path, runner: Runner = run_view) -> list[CaseResult]:
    """Every case of every suite file under `directory`."""
    return [r for f in suite_files(directory) for r in run_file(f, runner)]


def report(results: list[CaseResult]) -> dict[str, Any]:
    """`results` in the suite's test-report.schema.json format."""
    out: dict[str, Any] = {}
    for r in results:
        result: dict[str, Any] = {"passed": r.passed}
        if r.error is not None:
            result["error"] = r.error
        out.setdefault(r.file, {"tests": []})["tests"].append({"name": r.name, "result": result})
    return out
