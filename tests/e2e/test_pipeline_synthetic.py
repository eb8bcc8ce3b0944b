"""The whole pipeline on the synthetic health system: idempotent, crash-safe, deterministic."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import dangling_references, silver_resources

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run
from medlake.synth.generate import generate

pytestmark = pytest.mark.slow
PATIENTS = 60


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, PATIENTS, seed=11)
    return out


def _fresh_project(sources: Path, where: Path) -> ProjectConfig:
    """A copy of the synthetic sources with its own lake."""
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(sources, where, ignore=shutil.ignore_patterns("lake"))
    return load_config(where / "medlake.yaml")


def snapshot(project: ProjectConfig, tenant: str = "demo", gold: bool = True) -> dict[str, Any]:
    """What a build produced, minus run-specific stamps (batch ids, times)."""
    con = connect(open_lake(project, tenant), gold=gold)
    views = con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()
    snap: dict[str, Any] = {}
    for schema, name in sorted(views):
        if schema == "bronze":
            snap[f"bronze.{name}"] = con.execute(
                f'select count(*), count(distinct (_object_sha256, _record_index)) from bronze."{name}"'
            ).fetchall()
        elif schema == "silver" and name.endswith("_history"):
            snap[f"silver.{name}"] = sorted(con.execute(f"select id, version, content_hash, reason from silver.{name}").fetchall())
        elif schema == "silver":
            snap[f"silver.{name}"] = sorted(con.execute(f"select id, version, content_hash, resource from silver.{name}").fetchall())
        elif schema == "gold" and name == "kpi_executive":
            # data_freshness_days is measured in record (landing) time: a stamp of the run, like last_updated
            rows = con.execute("select * from gold.kpi_executive where metric <> 'data_freshness_days'").fetchall()
            snap["gold.kpi_executive"] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        elif schema in ("views", "gold"):
            # everything but the stamps of the run that wrote it
            rows = con.execute(f'select * exclude (last_updated) from {schema}."{name}"').fetchall() if _has(
                con, schema, name, "last_updated") else con.execute(f'select * from {schema}."{name}"').fetchall()
            snap[f"{schema}.{name}"] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        elif schema == "meta" and name == "quarantine":
            snap["meta.quarantine"] = sorted(
                con.execute("select source, stage, object_name, record_index, position, reason from meta.quarantine").fetchall()
            )
    con.close()
    return snap


def _has(con: Any, schema: str, name: str, column: str) -> bool:
    cols = [r[0] for r in con.execute(f'describe {schema}."{name}"').fetchall()]
    return column in cols


@pytest.fixture(scope="module")
def reference(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProjectConfig, dict[str, Any]]]:
    project = _fresh_project(sources, tmp_path_factory.mktemp("ref") / "p")
    run(project, "demo")
    yield project, snapshot(project)


def test_every_layer_is_built(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    project, snap = reference
    assert snap["silver.patient"] and snap["gold.patient_360"] and snap["views.observation"]
    assert any(k.startswith("bronze.ehr__") for k in snap)
    assert any(k.startswith("bronze.fhir_ehr__") for k in snap)
    con = connect(open_lake(project, "demo"))
    n_pat = con.execute("select count(*) from silver.patient").fetchone()[0]
    n_persons = con.execute("select count(distinct person_id) from identity.crosswalk").fetchone()[0]
    assert 0 < n_persons < n_pat  # the same people are known to several systems
    assert con.execute("select count(*) from gold.patient_360").fetchone()[0] == n_persons
    assert con.execute("select count(*) from gold.dim_patient").fetchone()[0] == n_pat
    # every landed object reached bronze or quarantine: none is left pending
    pending = con.execute("select count(distinct object_sha256) from meta.manifest where event = 'pending'").fetchone()[0]
    assert pending == 0
    sets = con.execute("select count(*) from bronze.claims__transactions").fetchone()[0]
    assert sets > 0
    con.close()


def test_hl7_feeds_reach_silver_and_gold(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    """The lab (ORM/ORU), ADT, scheduling (SIU) and charges (DFT) feeds land all the way."""
    project, _ = reference
    con = connect(open_lake(project, "demo"))

    def one(sql: str) -> Any:
        return con.execute(sql).fetchone()[0]

    lab_files = sorted(Path(project.resolve_location("lab")).glob("*.hl7"))
    sent = sum(f.read_bytes().count(b"MSH|") for f in lab_files)
    assert one("select count(*) from bronze.lab__messages") == sent
    # every ORU result is an Observation; HbA1c results reach patient_360 as the latest value
    assert one("select count(*) from silver.observation where source = 'lab'") > 0
    assert one("select count(*) from gold.patient_360 where list_contains(sources, 'lab') and hba1c_value is not null") > 0
    latest = con.execute(
        "select p.person_id, p.hba1c_value from gold.patient_360 p "
        "where list_contains(sources, 'lab') and p.hba1c_value is not null"
    ).fetchall()
    for person_id, value in latest[:20]:  # the mart's value is the person's latest HbA1c in the view
        newest = con.execute(
            "select o.value_number from views.observation o join views.person_xref x on x.patient_id = o.patient_id "
            "where x.person_id = ? and o.code = '4548-4' and o.value_number is not null "
            "and coalesce(o.status, '') not in ('entered-in-error', 'cancelled') "
            "order by o.effective_at desc nulls last, o.id limit 1",
            [person_id],
        ).fetchone()
        assert newest is not None and newest[0] == value
    # ADT visits are encounters in gold; scheduling and charges are in silver
    assert one("select count(*) from gold.fct_encounters where source = 'adt'") > 0
    assert one("select count(*) from silver.charge_item") > 0
    assert one("select count(*) from silver.diagnostic_report") > 0
    assert one("select count(*) from silver.service_request") > 0
    con.close()


def test_no_dangling_references_in_silver(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    project, _ = reference
    assert dangling_references(silver_resources(project, "demo")) == []


def test_injected_bad_input_is_quarantined_with_file_and_position(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    _, snap = reference
    reasons = [r[5] for r in snap["meta.quarantine"]]
    assert any("it may be truncated" in r for r in reasons)  # the truncated file's last record
    assert any("are not valid UTF-8; declare `encoding:" in r for r in reasons)  # the cp1252 file
    assert any("not valid JSON" in r for r in reasons)  # the broken NDJSON resource
    assert any(" fields, found " in r for r in reasons)  # ragged rows
    for source, _stage, obj, _idx, position, reason in snap["meta.quarantine"]:
        assert obj and position and obj.split("/")[-1] in reason, (source, obj, reason)


def test_corrections_become_new_versions(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    _, snap = reference
    versions = [v for _, v, _, reason in snap["silver.observation_history"] if v > 1]
    assert versions, "the synthetic late corrections should create second versions"
    assert all(reason == "correction" for _, v, _, reason in snap["silver.observation_history"] if v > 1)


def test_running_again_changes_nothing(reference: tuple[ProjectConfig, dict[str, Any]]) -> None:
    project, before = reference
    summary = run(project, "demo")
    silver = summary.stage("silver")
    assert silver is not None
    assert sum(d["inserted"] + d["updated"] for d in silver.details.values()) == 0
    assert snapshot(project) == before


def test_a_second_lake_from_the_same_input_is_identical(
    sources: Path, reference: tuple[ProjectConfig, dict[str, Any]], tmp_path: Path
) -> None:
    _, before = reference
    project = _fresh_project(sources, tmp_path / "again")
    run(project, "demo")
    assert snapshot(project) == before


def test_killed_mid_build_then_rerun_loses_and_duplicates_nothing(
    sources: Path, reference: tuple[ProjectConfig, dict[str, Any]], tmp_path: Path
) -> None:
    _, ref = reference
    project = _fresh_project(sources, tmp_path / "killed")
    lake_root = Path(project.lake_uri()) / "demo"
    cmd = [sys.executable, "-m", "medlake.cli.main", "run", "-c", str(Path(project.base_dir) / "medlake.yaml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # wait until silver is being written, then kill without warning
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (lake_root / "silver" / "fhir").exists() and any((lake_root / "silver" / "fhir").iterdir()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed; use more patients"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    run(project, "demo")
    after = snapshot(project)
    assert after == ref
