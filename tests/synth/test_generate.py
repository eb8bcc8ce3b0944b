"""The generator: determinism, ground truth, prevalence, and the project config it writes."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date
from pathlib import Path

from faker import Faker

from medlake.config import load_config
from medlake.synth.generate import SynthSummary, generate
from medlake.synth.history import build_history
from medlake.synth.population import PERIOD_START, age_on


def _digest(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 60, seed=5)
    generate(b, 60, seed=5)
    generate(c, 60, seed=6)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    assert da != dc
    assert da["truth/persons.csv"] != dc["truth/persons.csv"]


def test_a_person_does_not_depend_on_the_population_size(tmp_path: Path) -> None:
    generate(tmp_path / "small", 20, seed=3)
    generate(tmp_path / "large", 40, seed=3)
    small = (tmp_path / "small" / "truth" / "persons.csv").read_text().splitlines()
    large = (tmp_path / "large" / "truth" / "persons.csv").read_text().splitlines()
    assert large[: len(small)] == small


def test_ground_truth_is_consistent(small_out: tuple[Path, SynthSummary]) -> None:
    out, summary = small_out
    with (out / "truth" / "persons.csv").open(encoding="utf-8") as f:
        persons = {r["person_id"] for r in csv.DictReader(f)}
    assert len(persons) == summary.persons == 300
    with (out / "truth" / "records.csv").open(encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert records
    assert {r["person_id"] for r in records} <= persons
    assert all((out / r["file"]).is_file() for r in {r["file"]: r for r in records}.values())
    with (out / "truth" / "defects.csv").open(encoding="utf-8") as f:
        defects = list(csv.DictReader(f))
    kinds = Counter(d["defect"] for d in defects)
    for name in ("truncated_file", "column_drift", "late_correction", "unexpected_encoding", "ragged_row",
                 "malformed_json", "null_heavy_column", "nickname", "typo", "duplicate_mrn", "future_date"):
        assert kinds[name] > 0, name
    assert kinds["future_date"] == 1
    for d in defects:
        assert (out / d["file"]).is_file(), d
        assert d["location"], d
    # which defects a data-quality check should report (docs/quality.md maps each to its check)
    detectable = {d["defect"] for d in defects if d["detectable"] == "true"}
    assert {d["detectable"] for d in defects} == {"true", "false"}
    assert {"truncated_file", "column_drift", "x12_se_count", "x12_835_unbalanced", "future_date"} <= detectable
    assert not detectable & {"nickname", "typo", "married_name", "old_address", "bom", "lf_terminators"}


def test_summary_counts_files_records_and_defects(small_out: tuple[Path, SynthSummary]) -> None:
    out, s = small_out
    for source in ("ehr", "clinic", "fhir_ehr", "pharmacy", "wearables"):
        assert s.files[source] > 0, source
    assert s.records["ehr/patients"] > 0
    assert s.defect_count == sum(1 for _ in (out / "truth" / "defects.csv").open()) - 1


def test_prevalence_is_roughly_right() -> None:
    fake = Faker("en_US")
    n, adults, diabetic, hypertensive = 2000, 0, 0, 0
    for i in range(n):
        h = build_history(2024, i, fake)
        if age_on(h.person.birth_date, PERIOD_START) < 18:
            continue
        adults += 1
        codes = {c.icd10 for c in h.conditions if c.chronic}
        diabetic += "E119" in codes
        hypertensive += "I10" in codes
    assert 0.07 < diabetic / adults < 0.14
    assert 0.24 < hypertensive / adults < 0.38


def test_labs_follow_conditions() -> None:
    fake = Faker("en_US")
    a1c_diabetic: list[float] = []
    a1c_other: list[float] = []
    for i in range(600):
        h = build_history(99, i, fake)
        diabetic = any(c.icd10 == "E119" for c in h.conditions)
        for o in h.observations:
            if o.loinc == "4548-4" and o.corrected_value is None and isinstance(o.value, float):
                (a1c_diabetic if diabetic else a1c_other).append(o.value)
    assert a1c_diabetic and a1c_other
    assert any(v > 9 for v in a1c_diabetic)
    assert sum(a1c_diabetic) / len(a1c_diabetic) > sum(a1c_other) / len(a1c_other) + 1


def test_written_project_config_loads(small_out: tuple[Path, SynthSummary]) -> None:
    out, _ = small_out
    cfg = load_config(out / "medlake.yaml")
    tenant = cfg.tenant("demo")
    assert tenant.timezone == "America/Chicago"
    names = {s.name: s for s in tenant.sources}
    assert set(names) >= {"ehr", "clinic", "clinic_meds", "fhir_ehr", "lab", "adt", "claims", "pharmacy", "wearables"}
    assert names["clinic_meds"].format.delimiter == "^|^"
    assert names["ehr"].format.delimiter == "|"
    assert cfg.lake_uri() == str((out / "lake").resolve())
    assert date(2021, 1, 1) == PERIOD_START


def test_helper_processes_do_not_change_the_output(tmp_path: Path) -> None:
    generate(tmp_path / "inline", 120, seed=8, workers=0)
    generate(tmp_path / "spawned", 120, seed=8, workers=1)
    assert _digest(tmp_path / "inline") == _digest(tmp_path / "spawned")
