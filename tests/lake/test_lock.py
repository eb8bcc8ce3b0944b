"""One run per tenant at a time; a lock left by a dead process is taken over."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from medlake.errors import LakeError
from medlake.lake.lock import tenant_lock
from medlake.lake.paths import TenantLake


def test_a_live_run_blocks_a_second_and_a_dead_one_does_not(tmp_path: Path) -> None:
    lake = TenantLake.open(str(tmp_path), "acme")
    lock = tmp_path / "acme" / "_meta" / "run.lock"
    other = subprocess.Popen(["sleep", "60"])
    try:
        lock.parent.mkdir(parents=True)
        lock.write_text(f"{other.pid} run-1 2026-01-01T00:00:00Z\n")
        with pytest.raises(LakeError) as err, tenant_lock(lake, "run-2"):
            pass
        assert str(err.value) == (
            f"tenant `acme` is busy: run run-1 (pid {other.pid}) started 2026-01-01T00:00:00Z is still "
            f"running. Wait for it to finish; if that process is gone, delete {lock}."
        )
    finally:
        other.kill()
        other.wait()
    with tenant_lock(lake, "run-3"):
        assert lock.read_text().split()[1] == "run-3"
    assert not lock.exists()
