"""The hash-chained audit log: appends, the exact hash of a hand-built entry, tamper tests
(edit, delete, reorder, truncate) that must name the first bad entry, and threads and
processes appending at once."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from medlake.errors import LakeError
from medlake.lake.audit import GENESIS, AuditEvent, AuditLog, entry_hash, verify
from medlake.lake.paths import TenantLake

DAY1 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture()
def lake(tmp_path: Path) -> TenantLake:
    return TenantLake.open(str(tmp_path / "lake"), "acme")


def _fill(lake: TenantLake, n: int = 5) -> AuditLog:
    log = AuditLog(lake)
    for i in range(n):
        log.append(AuditEvent("clinician-7", "search", "Observation", i, client="app-3", token_id=f"tok-{i}",
                              query={"code": "4548-4"}), at=DAY1 if i < 3 else DAY2)
    return log


def _day(lake: TenantLake, day: str) -> Path:
    return Path(lake.uri(f"_meta/audit/{day}.jsonl"))


def test_first_entry_is_exactly_as_documented(lake: TenantLake) -> None:
    e = AuditLog(lake).append(AuditEvent("clinician-7", "read", "Patient", 1, client="app-3", token_id="tok-1"), at=DAY1)
    body = {"action": "read", "at": "2026-03-01T09:30:00.000000Z", "client": "app-3", "count": 1, "prev_hash": GENESIS,
            "query_hash": None, "resource_type": "Patient", "seq": 1, "tenant": "acme", "token": "tok-1", "who": "clinician-7"}
    canonical = (
        '{"action":"read","at":"2026-03-01T09:30:00.000000Z","client":"app-3","count":1,"prev_hash":"' + GENESIS + '",'
        '"query_hash":null,"resource_type":"Patient","seq":1,"tenant":"acme","token":"tok-1","who":"clinician-7"}'
    )
    assert e == {**body, "hash": hashlib.sha256(canonical.encode()).hexdigest()}
    assert _day(lake, "2026-03-01").read_bytes() == orjson.dumps(e, option=orjson.OPT_SORT_KEYS) + b"\n"
    assert orjson.loads(Path(lake.uri("_meta/audit/head.json")).read_bytes()) == {"seq": 1, "hash": e["hash"], "file": "2026-03-01.jsonl"}


def test_chain_runs_across_days_and_verifies(lake: TenantLake) -> None:
    log = _fill(lake)
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e["prev_hash"] for e in entries] == [GENESIS] + [e["hash"] for e in entries[:-1]]
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert [p.name for p in log.files()] == ["2026-03-01.jsonl", "2026-03-02.jsonl"]
    result = verify(lake)
    assert (result.ok, result.entries, result.files, result.last_seq, result.last_hash) == (True, 5, 2, 5, entries[-1]["hash"])
    assert [e["seq"] for e in log.last(2)] == [4, 5] and [e["seq"] for e in log.last(4)] == [2, 3, 4, 5]
    assert log.last(0) == [] and len(log.last(99)) == 5


def test_append_many_is_one_chain_with_singles(lake: TenantLake) -> None:
    log = AuditLog(lake)
    log.append(AuditEvent("u1", "read", "Patient", 1), at=DAY1)
    batch = log.append_many([AuditEvent("u2", "search", "Encounter", n) for n in (3, 0, 7)], at=DAY1)
    assert [e["seq"] for e in batch] == [2, 3, 4] and [e["count"] for e in batch] == [3, 0, 7]
    assert log.append_many([]) == []
    last = log.append(AuditEvent("u1", "read", "Patient", 1), at=DAY2)
    assert last["prev_hash"] == batch[-1]["hash"]
    assert verify(lake).ok and verify(lake).entries == 5
    with pytest.raises(LakeError, match="audit count must be 0 or more"):
        log.append_many([AuditEvent("u1", "read", "Patient", 1), AuditEvent("u1", "read", "Patient", -2)])
    assert verify(lake).entries == 5  # a bad event in a batch writes none of it


def test_query_is_stored_as_a_keyed_hash_only(lake: TenantLake) -> None:
    log = AuditLog(lake)
    a = log.append(AuditEvent("u1", "search", "Patient", 2, query={"family": "Smith", "birthdate": "1970-01-01"}))
    b = log.append(AuditEvent("u1", "search", "Patient", 2, query={"birthdate": ["1970-01-01"], "family": "Smith"}))
    c = log.append(AuditEvent("u1", "search", "Patient", 2, query={"family": "Smyth", "birthdate": "1970-01-01"}))
    assert a["query_hash"] == b["query_hash"] != c["query_hash"]
    text = b"".join(p.read_bytes() for p in log.files())
    assert b"Smith" not in text and b"1970" not in text
    plain = hashlib.sha256(orjson.dumps([("birthdate", ["1970-01-01"]), ("family", ["Smith"])])).hexdigest()
    assert a["query_hash"] != plain  # keyed: cannot be brute-forced without the lake's key


def test_empty_log_verifies(lake: TenantLake) -> None:
    assert verify(lake) == verify(lake) and verify(lake).ok and verify(lake).entries == 0


BAD_EVENTS = [
    (AuditEvent("John Smith", "read", "Patient", 1), "audit `who` must be an id (letters, digits, `._:@/|-`, up to 200), not free text"),
    (AuditEvent("u1", "Read!", "Patient", 1), "audit action `Read!` must be a lower-case word such as `read` or `search`"),
    (AuditEvent("u1", "read", "patient", 1), "audit resource_type `patient` must be a FHIR type or `*`"),
    (AuditEvent("u1", "read", "Patient", -1), "audit count must be 0 or more, not -1"),
]


@pytest.mark.parametrize(("event", "message"), BAD_EVENTS)
def test_bad_events_are_refused(lake: TenantLake, event: AuditEvent, message: str) -> None:
    with pytest.raises(LakeError) as info:
        AuditLog(lake).append(event)
    assert info.value.message == message


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_edited_field_is_named(lake: TenantLake) -> None:
    _fill(lake)
    path = _day(lake, "2026-03-01")
    lines = _lines(path)
    original = orjson.loads(lines[1])
    lines[1] = lines[1].replace(b'"count":1', b'"count":0')
    path.write_bytes(b"".join(lines))
    b = verify(lake).broken
    assert b is not None
    assert (b.file, b.line, b.seq, b.found) == ("_meta/audit/2026-03-01.jsonl", 2, 2, original["hash"])
    assert b.expected == entry_hash({**original, "count": 0})
    assert b.describe() == (
        f"_meta/audit/2026-03-01.jsonl line 2 (seq 2): hash does not match the entry's content (the entry was edited); "
        f"expected {b.expected}, found {b.found}"
    )


def test_deleted_entry_is_found_at_the_next_one(lake: TenantLake) -> None:
    entries = list(_fill(lake).entries())
    path = _day(lake, "2026-03-01")
    lines = _lines(path)
    path.write_bytes(lines[0] + lines[2])
    b = verify(lake).broken
    assert b is not None and (b.line, b.seq, b.expected, b.found) == (2, 3, entries[0]["hash"], entries[1]["hash"])
    assert b.reason.startswith("prev_hash is not the previous entry's hash")


def test_reordered_entries(lake: TenantLake) -> None:
    entries = list(_fill(lake).entries())
    path = _day(lake, "2026-03-02")
    lines = _lines(path)
    path.write_bytes(lines[1] + lines[0])
    b = verify(lake).broken
    assert b is not None and (b.file, b.line, b.seq, b.expected) == ("_meta/audit/2026-03-02.jsonl", 1, 5, entries[2]["hash"])


def test_removed_tail_is_caught_by_head(lake: TenantLake) -> None:
    """Removing whole entries from the end leaves a valid chain; head.json still names the lost seq."""
    _fill(lake)
    path = _day(lake, "2026-03-02")
    path.write_bytes(_lines(path)[0])
    b = verify(lake).broken
    assert b is not None and (b.file, b.line, b.seq, b.expected, b.found) == ("_meta/audit/head.json", 0, 5, "seq 5", "seq 4")
    assert b.reason == "the log ends at seq 4 but head.json records seq 5: entries were removed from the end"


def test_truncated_mid_line(lake: TenantLake) -> None:
    _fill(lake)
    path = _day(lake, "2026-03-02")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    b = verify(lake).broken
    assert b is not None and (b.line, b.reason) == (2, "the line is not valid JSON (cut off or edited)")
    with pytest.raises(LakeError, match=r"the audit log's last entry \(2026-03-02.jsonl\) is cut off"):
        AuditLog(lake).append(AuditEvent("u1", "read", "Patient", 1))


def test_whole_day_file_removed(lake: TenantLake) -> None:
    entries = list(_fill(lake).entries())
    _day(lake, "2026-03-01").unlink()
    b = verify(lake).broken
    assert b is not None and (b.file, b.line, b.seq, b.expected, b.found) == (
        "_meta/audit/2026-03-02.jsonl", 1, 4, GENESIS, entries[2]["hash"],
    )


def test_missing_head_is_reported(lake: TenantLake) -> None:
    _fill(lake, 2)
    Path(lake.uri("_meta/audit/head.json")).unlink()
    b = verify(lake).broken
    assert b is not None and b.reason == "head.json is missing, so a cut-off tail cannot be ruled out"


def test_crash_between_line_and_head_still_verifies(lake: TenantLake) -> None:
    log = _fill(lake, 3)
    head = Path(lake.uri("_meta/audit/head.json"))
    stale = head.read_bytes()
    log.append(AuditEvent("u1", "read", "Patient", 1), at=DAY1)
    head.write_bytes(stale)  # as if the process died before rewriting head.json
    assert verify(lake).ok and verify(lake).last_seq == 4


def test_threads_append_one_chain(lake: TenantLake) -> None:
    def work(i: int) -> None:
        log = AuditLog(lake)  # a log object per thread: the lock is per folder, not per object
        for j in range(25):
            log.append(AuditEvent(f"user-{i}", "read", "Patient", j))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(lake)
    assert result.ok and result.entries == 200 and result.last_seq == 200


def _proc_work(root: str, i: int) -> None:
    log = AuditLog(TenantLake.open(root, "acme"))
    for j in range(20):
        log.append(AuditEvent(f"proc-{i}", "read", "Patient", j))


def test_processes_append_one_chain(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_proc_work, args=(root, i)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    result = verify(TenantLake.open(root, "acme"))
    assert result.ok and result.entries == 60


def test_object_store_lake_is_refused() -> None:
    with pytest.raises(LakeError, match="the audit log needs a local lake folder"):
        AuditLog(TenantLake.open("s3://bucket/lake", "acme"))


def test_anchor_catches_a_log_rewritten_whole(lake: TenantLake, tmp_path: Path) -> None:
    entries = list(_fill(lake, 3).entries())
    anchor = (2, entries[1]["hash"])
    assert verify(lake, anchor).ok
    # rewrite: a fresh, internally consistent log with other content, head.json included
    other = TenantLake.open(str(tmp_path / "forged"), "acme")
    _fill(other, 3)
    AuditLog(other).append(AuditEvent("u1", "read", "Patient", 1), at=DAY1)
    folder = Path(lake.uri("_meta/audit"))
    for name in ("2026-03-01.jsonl", "head.json"):
        (folder / name).write_bytes(Path(other.uri(f"_meta/audit/{name}")).read_bytes())
    forged = list(AuditLog(other).entries())
    assert verify(lake).ok  # the chain alone cannot tell
    b = verify(lake, anchor).broken
    assert b is not None and (b.seq, b.expected, b.found) == (2, anchor[1], forged[1]["hash"])
    assert b.reason == "the chain does not hold the anchored hash at seq 2 (the log was rewritten or cut)"
    b = verify(lake, (9, anchor[1])).broken
    assert b is not None and b.found == "no such entry"
