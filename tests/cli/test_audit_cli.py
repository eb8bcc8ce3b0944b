"""`medlake audit verify` and `medlake audit show`: whole stdout and exit codes on a small log
written here (two tenants, fixed times), intact and tampered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from typer.testing import CliRunner

from medlake.cli.main import app
from medlake.lake.audit import AuditEvent, AuditLog, entry_hash
from medlake.lake.paths import TenantLake

runner = CliRunner()
CONFIG = """\
lake: ./lake
tenants:
- name: acme
  sources:
  - {name: ehr, kind: fhir, location: ehr}
- name: globex
  sources:
  - {name: ehr, kind: fhir, location: ehr}
"""
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _project(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    (tmp_path / "medlake.yaml").write_text(CONFIG, encoding="utf-8")
    log = AuditLog(TenantLake.open(str(tmp_path / "lake"), "acme"))
    entries = [
        log.append(AuditEvent("clinician-7", "read", "Patient", 1, client="app-3", token_id="t1"), at=AT),
        log.append(AuditEvent("clinician-7", "search", "Observation", 12, client="app-3", query="code=4548-4"), at=AT),
        log.append(AuditEvent("backend", "export", "*", 340), at=AT),
    ]
    return tmp_path / "medlake.yaml", entries


def test_verify_intact(tmp_path: Path) -> None:
    config, entries = _project(tmp_path)
    res = runner.invoke(app, ["audit", "verify", "-c", str(config), "--tenant", "acme"])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"audit log of tenant acme: 3 entries in 1 file, chain intact; last seq 3, hash {entries[2]['hash']}\n"


def test_verify_empty_tenant(tmp_path: Path) -> None:
    config, _ = _project(tmp_path)
    res = runner.invoke(app, ["audit", "verify", "-c", str(config), "-t", "globex"])
    assert (res.exit_code, res.stdout) == (0, "audit log of tenant globex: 0 entries in 0 files, chain intact\n")


def test_verify_broken_exits_1_naming_the_entry(tmp_path: Path) -> None:
    config, entries = _project(tmp_path)
    path = tmp_path / "lake" / "acme" / "_meta" / "audit" / "2026-03-01.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"count":12', b'"count":2'))
    res = runner.invoke(app, ["audit", "verify", "-c", str(config), "--tenant", "acme"])
    assert res.exit_code == 1, res.output
    expected = AuditLog(TenantLake.open(str(tmp_path / "lake"), "acme")).last(3)[1]
    assert res.stdout == (
        "audit log of tenant acme: BROKEN after 1 good entry in 1 file\n"
        "first bad entry: _meta/audit/2026-03-01.jsonl line 2 (seq 2): hash does not match the entry's content "
        f"(the entry was edited); expected {entry_hash(expected)}, found {entries[1]['hash']}\n"
    )


def test_show_last(tmp_path: Path) -> None:
    config, _ = _project(tmp_path)
    res = runner.invoke(app, ["audit", "show", "-c", str(config), "-t", "acme", "--last", "2"])
    assert res.exit_code == 0, res.output
    assert res.stdout == (
        "seq  at                           who          client  action  resource_type  count\n"
        "2    2026-03-01T09:30:00.000000Z  clinician-7  app-3   search  Observation    12\n"
        "3    2026-03-01T09:30:00.000000Z  backend      -       export  *              340\n"
    )


def test_show_json_and_empty(tmp_path: Path) -> None:
    config, entries = _project(tmp_path)
    res = runner.invoke(app, ["audit", "show", "--lake", str(tmp_path / "lake"), "-t", "acme", "-n", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert [orjson.loads(ln) for ln in res.stdout.splitlines()] == [entries[2]]
    empty = runner.invoke(app, ["audit", "show", "-c", str(config), "-t", "globex"])
    assert (empty.exit_code, empty.stdout) == (0, "no audit entries\n")


def test_two_tenants_need_a_choice(tmp_path: Path) -> None:
    config, _ = _project(tmp_path)
    res = runner.invoke(app, ["audit", "verify", "-c", str(config)])
    assert res.exit_code == 2
    assert "several tenants (acme, globex); choose one with --tenant" in res.output


def test_verify_anchor(tmp_path: Path) -> None:
    config, entries = _project(tmp_path)
    ok = runner.invoke(app, ["audit", "verify", "-c", str(config), "-t", "acme", "--anchor", f"2:{entries[1]['hash']}"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["audit", "verify", "-c", str(config), "-t", "acme", "--anchor", f"2:{entries[0]['hash']}"])
    assert bad.exit_code == 1
    assert bad.stdout.splitlines()[1] == (
        "first bad entry: _meta/audit (seq 2): the chain does not hold the anchored hash at seq 2 "
        f"(the log was rewritten or cut); expected {entries[0]['hash']}, found {entries[1]['hash']}"
    )
    junk = runner.invoke(app, ["audit", "verify", "-c", str(config), "-t", "acme", "--anchor", "two:abc"])
    assert junk.exit_code == 2 and "is not SEQ:HASH (a number, a colon, 64 hex digits)" in junk.output
