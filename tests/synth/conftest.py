from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from medlake.synth.generate import SynthSummary, generate

SMALL = 300


@pytest.fixture(scope="session")
def small_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    """One small generated system shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("synth") / "out"
    return out, generate(out, SMALL, seed=11)
