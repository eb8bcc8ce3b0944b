"""The API's store sees later pipeline writes once its snapshot is older than `refresh_seconds`."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medlake.config import ProjectConfig
from medlake.lake.paths import TenantLake
from medlake.serve.store import ResourceStore
from medlake.silver.store import SilverRecord, write

pytestmark = pytest.mark.slow


def _patient(rid: str, family: str) -> SilverRecord:
    resource = {"resourceType": "Patient", "id": rid, "name": [{"family": family}]}
    return SilverRecord(rid, "Patient", resource, rid, "test", "urn:test", rid, "0" * 64, "test.txt", 0, "b1")


def test_refresh_shows_new_versions(project: ProjectConfig, tmp_path: Path) -> None:
    source = Path(project.lake_uri()) / "demo"
    shutil.copytree(source, tmp_path / "demo")
    lake = TenantLake.open(str(tmp_path), "demo")
    fresh, stale = ResourceStore(lake, refresh_seconds=0), ResourceStore(lake, refresh_seconds=3600)
    assert fresh.read("Patient", "p-new") is None and stale.read("Patient", "p-new") is None
    write(lake, "demo", [_patient("p-new", "Ames")], now=datetime(2026, 1, 1, tzinfo=UTC))
    write(lake, "demo", [_patient("p-new", "Baker")], now=datetime(2026, 1, 2, tzinfo=UTC))
    got = fresh.read("Patient", "p-new")
    assert got is not None and got["name"] == [{"family": "Baker"}]
    assert got["meta"] == {"versionId": "2", "lastUpdated": "2026-01-02T00:00:00Z"}
    assert [(v.version, v.resource["name"][0]["family"]) for v in fresh.versions("Patient", "p-new")] == [(2, "Baker"), (1, "Ames")]
    assert stale.read("Patient", "p-new") is None
