"""The official SQL-on-FHIR v2 suite, read in place: one pytest case per suite test.

Source: ../shared/conformance/sql-on-fhir-v2/tests (HL7 sql-on-fhir, see its SOURCE.md).
Any case we cannot pass must be listed in XFAIL with a reason (strict: a fix flips it). None is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medlake.silver.views.engine.conformance import load_suite_file, report, run_case, run_suite
from shared_data import SHARED, shared_path

SUITE = SHARED / "conformance" / "sql-on-fhir-v2"
XFAIL: dict[tuple[str, str], str] = {}  # (file, title) -> reason; empty: all 144 pass


def _cases() -> list[Any]:
    files = sorted((SUITE / "tests").glob("*.json")) if (SUITE / "tests").is_dir() else []
    params = []
    for f in files:
        for case in json.loads(f.read_text(encoding="utf-8"))["tests"]:
            marks = [pytest.mark.xfail(strict=True, reason=XFAIL[(f.name, case["title"])])] if (f.name, case["title"]) in XFAIL else []
            params.append(pytest.param(f.name, case["title"], id=f"{f.stem}::{case['title']}", marks=marks))
    return params or [pytest.param("", "", id="suite-absent")]


@pytest.mark.shared
@pytest.mark.parametrize(("file", "title"), _cases())
def test_official_case(file: str, title: str) -> None:
    data = load_suite_file(shared_path("conformance", "sql-on-fhir-v2", "tests", file))
    case = next(t for t in data["tests"] if t["title"] == title)
    assert run_case(case, data["resources"]) is None


@pytest.mark.shared
def test_suite_has_144_cases_and_the_report_matches_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root = shared_path("conformance", "sql-on-fhir-v2")
    results = run_suite(root)
    assert len(results) == 144
    assert sum(r.passed for r in results) == 144 - len(XFAIL)
    schema = json.loads((root / "test-report.schema.json").read_text(encoding="utf-8"))
    doc = report(results)
    jsonschema.validate(doc, schema)
    assert len(doc) == 22
    assert doc["basic.json"]["tests"][0] == {"name": "basic attribute", "result": {"passed": True}}


def test_a_wrong_expectation_fails_with_the_difference(tmp_path: Path) -> None:
    case = {"title": "t", "view": {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]},
            "expect": [{"id": "p9"}]}  # fmt: skip
    assert run_case(case, [{"resourceType": "Patient", "id": "p1"}]) == 'rows differ: expected {"id": "p9"}, got {"id": "p1"}'
    assert run_case({**case, "expectError": True}, []) == "expected an error, but the view ran"
    assert run_case({**case, "expect": []}, [{"resourceType": "Patient", "id": "p1"}]) == "expected 0 rows, got 1"
