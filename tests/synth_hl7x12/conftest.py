"""One generated OUT folder (60 hand-made persons) shared by the feed tests."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hl7x12_fixtures import generate

from medlake.synth import emit_hl7, emit_x12


@pytest.fixture(scope="session")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth_hl7x12")
    with pytest.MonkeyPatch.context() as mp:
        # rarer events made common so 60 persons show each of them at least once
        mp.setattr(emit_hl7, "DUPLICATE_RATE", 0.15)
        mp.setattr(emit_x12, "REVERSAL_RATE", 0.15)
        generate(root, 60, seed=11, lab_per_file=25, adt_per_file=40, claims_per_file=30)
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def defects(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth" / "defects.csv")


@pytest.fixture(scope="session")
def records(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth" / "records.csv")
