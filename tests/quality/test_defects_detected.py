"""Every defect the generator lists as detectable is reported by a named check, and no shipped
builtin check fails for a reason the ground truth does not list (docs/quality.md, "Built-in checks")."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

import pytest

from medlake.config import load_config
from medlake.pipeline import run
from medlake.quality import load_checks, run_checks
from medlake.synth.generate import generate

pytestmark = pytest.mark.slow

# defect kind (truth/defects.csv) -> the check that reports it, for the defect's source
DETECTED_BY: dict[str, str] = {
    "truncated_file": "bronze.truncation",
    "x12_se_count": "bronze.truncation",
    "column_drift": "bronze.schema_drift",
    "ragged_row": "bronze.quarantine",
    "malformed_json": "bronze.quarantine",
    "unexpected_encoding": "bronze.quarantine",
    "missing_dob": "patient.birth_date.not_null",
    "duplicate_mrn": "identity.shared_patient_number",
    "duplicate_registration": "identity.merged_registrations",
    "x12_835_unbalanced": "reconciliation.x12_balance",
    "future_date": "dates.not_future",
}
# what else a defect legitimately trips: the cut-off last record of a truncated file is quarantined
ALSO: dict[str, tuple[str, ...]] = {"truncated_file": ("bronze.quarantine",)}


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], Any, list[str]]:
    out = tmp_path_factory.mktemp("synth")
    generate(out, 120, seed=7)  # this seed and size carry every detectable defect kind but A40 merges
    project = load_config(out / "medlake.yaml")
    run(project, "demo", workers=1)
    report = run_checks(project, "demo", write=False, now=datetime(2026, 1, 15, tzinfo=UTC))
    with (out / "truth" / "defects.csv").open(encoding="utf-8") as f:
        defects = [d for d in csv.DictReader(f) if d["detectable"] == "true"]
    builtin_ids = [s.id for s in load_checks(project, "demo") if s.origin == "builtin.yaml"]
    return defects, report, builtin_ids


def test_every_detectable_defect_is_reported_by_its_check(checked: tuple[list[dict[str, str]], Any, list[str]]) -> None:
    defects, report, _ = checked
    assert {d["defect"] for d in defects} <= set(DETECTED_BY), "a detectable defect kind has no check"
    found = {(r.check_id, r.group) for r in report.results if r.failing > 0}
    missed = sorted({(d["defect"], d["source"]) for d in defects if (DETECTED_BY[d["defect"]], d["source"]) not in found})
    assert missed == [], missed
    assert {d["defect"] for d in defects} >= {"truncated_file", "column_drift", "missing_dob", "duplicate_mrn",
                                               "x12_835_unbalanced", "x12_se_count", "future_date"}


def test_no_builtin_check_fails_without_a_planted_cause(checked: tuple[list[dict[str, str]], Any, list[str]]) -> None:
    defects, report, builtin_ids = checked
    expected = {(c, d["source"]) for d in defects for c in (DETECTED_BY[d["defect"]], *ALSO.get(d["defect"], ()))}
    unexplained = sorted((r.check_id, r.group, r.sentence) for r in report.results
                         if r.check_id in builtin_ids and r.failing > 0 and r.severity != "info"
                         and (r.check_id, r.group) not in expected)
    assert unexplained == [], unexplained
    assert not [r for r in report.results if r.check_id in builtin_ids and r.status == "error"]
