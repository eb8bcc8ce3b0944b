"""`medlake history`: whole outputs over a hand-made history, and the errors for bad references."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medlake.cli.main import app
from medlake.lake.paths import TenantLake
from medlake.silver import store

runner = CliRunner()


def _rec(family: str, valid: datetime, obj: str, idx: int, gender: str = "female") -> store.SilverRecord:
    res: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "name": [{"family": family}], "gender": gender}
    micros = int(valid.timestamp()) * 1_000_000
    return store.SilverRecord("p1", "Patient", res, "p1", "adt", "urn:x", "MRN-7", "sha-" + obj, obj, idx, "b", micros)


def d(m: int, day: int, y: int = 2026) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hist") / "lake"
    lake = TenantLake.open(str(path), "t")
    store.write(lake, "t", [_rec("Smith", d(12, 1, 2025), "a.hl7", 0)], now=d(1, 1))
    store.write(lake, "t", [_rec("Smith-Lee", d(1, 15), "b.hl7", 3)], now=d(2, 1))
    store.write(lake, "t", [_rec("Smyth", d(12, 20, 2025), "c.hl7", 1, "other")], now=d(3, 1))
    return path


HEAD = (
    "version  recorded from         recorded to           valid from            valid to              reason        "
    "source  object#record  hash          changed"
)


def _hashes(root: Path) -> list[str]:
    res = runner.invoke(app, ["history", "--lake", str(root), "Patient/p1", "--json"])
    return [v["content_hash"][:12] for v in json.loads(res.stdout)]


def test_every_version(root: Path) -> None:
    h1, h2, h3 = _hashes(root)
    res = runner.invoke(app, ["history", "--lake", str(root), "Patient/p1"])
    assert (res.exit_code, res.stderr) == (0, "")
    assert res.stdout == "\n".join([
        "Patient/p1: 3 versions, current 2",
        "",
        HEAD,
        f"      1  2026-01-01T00:00:00Z  2026-02-01T00:00:00Z  2025-12-01T00:00:00Z  2025-12-20T00:00:00Z  initial       adt     a.hl7#0        {h1}  -",
        f"      2  2026-02-01T00:00:00Z  -                     2026-01-15T00:00:00Z  -                     correction    adt     b.hl7#3        {h2}  name",
        f"      3  2026-03-01T00:00:00Z  2026-03-01T00:00:00Z  2025-12-20T00:00:00Z  2026-01-15T00:00:00Z  late_arrival  adt     c.hl7#1        {h3}  name, gender",
    ]) + "\n"


@pytest.mark.parametrize(
    ("option", "instant", "title", "version"),
    [
        ("--as-of", "2026-01-20", "recorded as of 2026-01-20T00:00:00Z: version 1", 1),
        ("--as-of", "2026-03-05T00:00:00Z", "recorded as of 2026-03-05T00:00:00Z: version 2", 2),
        ("--valid-at", "2025-12-25", "valid at 2025-12-25T00:00:00Z: version 3", 3),
    ],
)
def test_one_instant(root: Path, option: str, instant: str, title: str, version: int) -> None:
    res = runner.invoke(app, ["history", "--lake", str(root), "Patient/p1", option, instant])
    assert (res.exit_code, res.stderr) == (0, "")
    lines = res.stdout.splitlines()
    assert lines[0] == f"Patient/p1: 3 versions, current 2; {title}"
    assert [line.split()[0] for line in lines[3:]] == [str(version)]


def test_nothing_current_then_exits_1(root: Path) -> None:
    res = runner.invoke(app, ["history", "--lake", str(root), "Patient/p1", "--as-of", "2025-06-01"])
    assert res.exit_code == 1
    assert res.stdout == "Patient/p1: 3 versions, current 2; recorded as of 2025-06-01T00:00:00Z: no version\n"


def test_json_has_full_versions(root: Path) -> None:
    res = runner.invoke(app, ["history", "--lake", str(root), "patient/MRN-7", "--json", "--as-of", "2026-02-02"])
    assert res.exit_code == 0
    (v,) = json.loads(res.stdout)
    assert {k: v[k] for k in ("version", "reason", "recorded_from", "recorded_to", "valid_from", "valid_to", "changed", "current")} == {
        "version": 2, "reason": "correction", "recorded_from": "2026-02-01T00:00:00Z", "recorded_to": None,
        "valid_from": "2026-01-15T00:00:00Z", "valid_to": None, "changed": ["name"], "current": True,
    }
    assert v["resource"] == {
        "resourceType": "Patient", "id": "p1", "name": [{"family": "Smith-Lee"}], "gender": "female", "meta": {"versionId": "2"}
    }
    assert (v["object_name"], v["record_index"], v["source_id"]) == ("b.hl7", 3, "MRN-7")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "Patinet/p1",
            "error: `Patinet` is not a resource type in this lake's silver history; the types are: Patient. "
            "Did you mean `Patient`?",
        ),
        (
            "Patient/p9",
            "error: `Patient/p9` is not in silver history: no Patient has that id (or, alone, that source id); "
            'find ids with `medlake sql "select id, source_id from silver.patient limit 5"`',
        ),
        ("p1", "error: `p1` is not RESOURCE_TYPE/ID; write it like `Patient/<id>` (ids are in `silver.<type>.id`)"),
    ],
)
def test_bad_references(root: Path, reference: str, message: str) -> None:
    res = runner.invoke(app, ["history", "--lake", str(root), reference])
    assert res.exit_code == 2
    assert " ".join(res.stderr.split()) == message


def test_bad_instant(root: Path) -> None:
    res = runner.invoke(app, ["history", "--lake", str(root), "Patient/p1", "--as-of", "yesterday"])
    assert res.exit_code == 2
    assert "--as-of `yesterday` is not an instant" in res.stderr


def test_sql_as_of(root: Path) -> None:
    q = "select id, version from silver.patient"
    res = runner.invoke(app, ["sql", "--lake", str(root), "--as-of", "2026-01-20", "-f", "csv", q])
    assert (res.exit_code, res.stdout) == (0, "id,version\np1,1\n")
    res = runner.invoke(app, ["sql", "--lake", str(root), "--valid-at", "2025-12-25", "-f", "csv", q])
    assert (res.exit_code, res.stdout) == (0, "id,version\np1,3\n")
