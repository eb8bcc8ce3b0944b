"""The tenant's audit log (`_meta/audit/`): who read what, when and how much; append-only and
hash-chained so that an edited, removed or reordered entry is found by `verify`.

Layout, one tenant:

    _meta/audit/2026-11-23.jsonl   one entry per line, a file per UTC day (canonical JSON)
    _meta/audit/head.json          the last entry's seq and hash (finds a cut-off tail)
    _meta/audit/key                random key for `query_hash` (HMAC), never leaves the lake
    _meta/audit/.lock              taken with flock(2) while appending

Each entry is `{seq, at, tenant, who, client, token, action, resource_type, count,
query_hash, prev_hash, hash}` where `hash = sha256(canonical JSON of every other field)` and
`prev_hash` is the previous entry's `hash` (64 zeros for the first). The chain runs across
day files. Entries carry ids and counts only: the query is kept as a keyed hash, so equal
queries can be matched without storing a name, a birth date or any other value.

Appends are serialised by a lock held in two layers (`medlake.lake.audit_commit`): a
`threading.Lock` for the threads of one process and an exclusive `flock` on `.lock` for
other processes; under it the tail is read back from the newest day file, so the chain
never forks. Threads appending at once are written together, one fsync per group. Local
lakes only: an object store cannot append, so `AuditLog` refuses an `s3://` lake.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from medlake.errors import LakeError
from medlake.lake.audit_commit import folder_lock, group_for, last_line
from medlake.lake.paths import TenantLake

GENESIS = "0" * 64
FIELDS = ("seq", "at", "tenant", "who", "client", "token", "action", "resource_type", "count", "query_hash", "prev_hash", "hash")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/|-]{0,199}$")
_ACTION = re.compile(r"^[a-z][a-z-]{0,31}$")
_TYPE = re.compile(r"^(\*|[A-Z][A-Za-z]{0,63})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.jsonl$")

Query = str | Mapping[str, str | Sequence[str]] | None


@dataclass(frozen=True)
class AuditEvent:
    """One access to PHI, as the caller knows it (no values, only ids and counts)."""

    who: str  # the token's subject
    action: str  # read, vread, search, history, export, create, update, delete, …
    resource_type: str  # a FHIR type, or `*` for a system-wide export
    count: int  # resources returned or written
    client: str | None = None
    token_id: str | None = None
    query: Query = None  # hashed with the tenant's key, never stored


@dataclass(frozen=True)
class BrokenEntry:
    """The first place the chain does not hold."""

    file: str  # key under the tenant root
    line: int  # 1-based line in that file (0 for head.json)
    seq: int | None
    reason: str
    expected: str
    found: str

    def describe(self) -> str:
        where = self.file + (f" line {self.line}" if self.line else "") + (f" (seq {self.seq})" if self.seq is not None else "")
        return f"{where}: {self.reason}; expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    files: int
    last_seq: int
    last_hash: str
    broken: BrokenEntry | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of every field but `hash`."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def safe_id(value: str | None) -> str | None:
    """`value` when it is a plain id, else `sha256:` and its hash (a token subject may be an
    e-mail address with a name in it, or free text: never store that as is)."""
    if value is None or _ID.match(value):
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _check(event: AuditEvent) -> None:
    for name, value in (("who", event.who), ("client", event.client), ("token_id", event.token_id)):
        if value is not None and not _ID.match(value):
            raise LakeError(f"audit `{name}` must be an id (letters, digits, `._:@/|-`, up to 200), not free text", field=name)
    if not _ACTION.match(event.action):
        raise LakeError(f"audit action `{event.action[:40]}` must be a lower-case word such as `read` or `search`", field="action")
    if not _TYPE.match(event.resource_type):
        raise LakeError(f"audit resource_type `{event.resource_type[:40]}` must be a FHIR type or `*`", field="resource_type")
    if event.count < 0:
        raise LakeError(f"audit count must be 0 or more, not {event.count}", field="count")


def _canonical_query(query: Query) -> bytes:
    if isinstance(query, str):
        return query.encode()
    items = sorted((k, [v] if isinstance(v, str) else sorted(v)) for k, v in (query or {}).items())
    return orjson.dumps(items)


class AuditLog:
    """Append to and read one tenant's audit log."""

    def __init__(self, lake: TenantLake, *, durable: bool = True) -> None:
        if "://" in lake.root:
            raise LakeError(
                f"the audit log needs a local lake folder; `{lake.root}` is an object store. "
                "Serve from a local lake or a mounted volume.",
                tenant=lake.tenant,
            )
        self.lake = lake
        self.folder = Path(lake.uri("_meta/audit"))
        self.durable = durable  # fsync each entry; False trades a crash's last entries for speed
        self._key: bytes | None = None

    def append(self, event: AuditEvent, *, at: datetime | None = None) -> dict[str, Any]:
        """Write one entry at the end of the chain and return it (with its `seq` and `hash`).

        Threads appending at the same time are written together (one lock, one fsync): each
        waits for its own entry, so when this returns the entry is on disk.
        """
        _check(event)
        when = (at or datetime.now(UTC)).astimezone(UTC)
        entry: dict[str, Any] = group_for(self.folder).submit((event, when), self._write)
        return entry

    def append_many(self, events: Sequence[AuditEvent], *, at: datetime | None = None) -> list[dict[str, Any]]:
        """Write several entries (one lock, one fsync) at the end of the chain, all stamped `at`."""
        for event in events:
            _check(event)
        when = (at or datetime.now(UTC)).astimezone(UTC)
        return self._write([(event, when) for event in events])

    def _write(self, batch: list[tuple[AuditEvent, datetime]]) -> list[dict[str, Any]]:
        if not batch:
            return []
        with folder_lock(self.folder):
            key = self._query_key()
            last_file, last = self._tail()
            seq, prev = (int(last["seq"]), str(last["hash"])) if last else (0, GENESIS)
            written: list[dict[str, Any]] = []
            for event, when in batch:
                seq += 1
                entry = self._entry(event, seq, when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), prev, key)
                prev = entry["hash"]
                written.append(entry)
            day = f"{max(when for _, when in batch):%Y-%m-%d}.jsonl"
            target = self.folder / max(day, last_file or day)  # never write behind the newest file
            with open(target, "ab") as fh:
                fh.write(b"".join(orjson.dumps(e, option=orjson.OPT_SORT_KEYS) + b"\n" for e in written))
                fh.flush()
                if self.durable:
                    os.fsync(fh.fileno())
            if written:
                self._write_head({"seq": seq, "hash": prev, "file": target.name})
        return written

    def _entry(self, event: AuditEvent, seq: int, stamp: str, prev: str, key: bytes) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": seq,
            "at": stamp,
            "tenant": self.lake.tenant,
            "who": event.who,
            "client": event.client,
            "token": event.token_id,
            "action": event.action,
            "resource_type": event.resource_type,
            "count": event.count,
            "query_hash": None if event.query is None else hmac.new(key, _canonical_query(event.query), "sha256").hexdigest(),
            "prev_hash": prev,
        }
        entry["hash"] = entry_hash(entry)
        return entry

    def _write_head(self, head: dict[str, Any]) -> None:
        """Replace head.json atomically; no fsync: a head left behind by a crash still verifies."""
        tmp = self.folder / ".head.tmp"
        tmp.write_bytes(orjson.dumps(head, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, self.folder / "head.json")

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if _DAY.match(p.name))

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest first (unverified: call `verify` to check the chain)."""
        for path in self.files():
            with open(path, "rb") as fh:
                for raw in fh:
                    if raw.strip():
                        yield orjson.loads(raw)

    def last(self, n: int) -> list[dict[str, Any]]:
        """The newest `n` entries, oldest first."""
        found: list[dict[str, Any]] = []
        for path in reversed(self.files()):
            if len(found) >= n:
                break
            lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
            found = [orjson.loads(ln) for ln in lines[-(n - len(found)) :]] + found
        return found

    def _tail(self) -> tuple[str | None, dict[str, Any] | None]:
        files = self.files()
        for path in reversed(files):
            line = last_line(path)
            if line:
                try:
                    return path.name, dict(orjson.loads(line))
                except orjson.JSONDecodeError:
                    raise LakeError(
                        f"the audit log's last entry ({path.name}) is cut off; run `medlake audit verify` "
                        "and restore the file before appending",
                        tenant=self.lake.tenant,
                    ) from None
        return (files[-1].name if files else None), None

    def _query_key(self) -> bytes:
        if self._key is None:
            path = self.folder / "key"
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
            self._key = path.read_bytes()
        return self._key


def verify(lake: TenantLake, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain; the result names the first entry that does not hold, if any.

    `anchor` is a (seq, hash) pair recorded earlier outside the lake (a printed `last_hash`):
    the chain must still hold that hash at that seq, which catches a log rewritten whole.
    """
    log = AuditLog(lake)
    files = log.files()
    seq, prev, count = 0, GENESIS, 0
    want = _head_seq(log)
    hashes: dict[int, str] = {}  # only the entries head.json and the anchor name
    for path in files:
        key = f"_meta/audit/{path.name}"
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                broken = _check_line(key, n, raw, seq, prev)
                if broken is not None:
                    return VerifyResult(count, len(files), seq, prev, broken)
                entry = orjson.loads(raw)
                seq, prev, count = entry["seq"], entry["hash"], count + 1
                if seq == want or (anchor and seq == anchor[0]):
                    hashes[seq] = prev
    broken = _check_head(log, seq, hashes) or _check_anchor(anchor, hashes)
    return VerifyResult(count, len(files), seq, prev, broken)


def _check_anchor(anchor: tuple[int, str] | None, hashes: dict[int, str]) -> BrokenEntry | None:
    if anchor is None or hashes.get(anchor[0]) == anchor[1]:
        return None
    reason = f"the chain does not hold the anchored hash at seq {anchor[0]} (the log was rewritten or cut)"
    return BrokenEntry("_meta/audit", 0, anchor[0], reason, anchor[1], hashes.get(anchor[0], "no such entry"))


def _head_seq(log: AuditLog) -> int | None:
    try:
        return int(orjson.loads((log.folder / "head.json").read_bytes())["seq"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _check_line(key: str, n: int, raw: bytes, seq: int, prev: str) -> BrokenEntry | None:
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return BrokenEntry(key, n, None, "the line is not valid JSON (cut off or edited)", "an entry", f"{len(raw)} bytes")
    if not isinstance(entry, dict) or set(entry) != set(FIELDS):
        got = ", ".join(sorted(entry)) if isinstance(entry, dict) else type(entry).__name__
        return BrokenEntry(key, n, None, "the entry does not have the audit fields", ", ".join(sorted(FIELDS)), got)
    at = entry["seq"] if isinstance(entry["seq"], int) else None
    if entry["prev_hash"] != prev:
        reason = "prev_hash is not the previous entry's hash (an entry before it was removed, reordered or edited)"
        return BrokenEntry(key, n, at, reason, prev, str(entry["prev_hash"]))
    if entry["hash"] != entry_hash(entry):
        return BrokenEntry(key, n, at, "hash does not match the entry's content (the entry was edited)", entry_hash(entry), str(entry["hash"]))
    if at != seq + 1:
        return BrokenEntry(key, n, at, "seq does not follow the previous entry's", f"seq {seq + 1}", f"seq {entry['seq']}")
    return None


def _check_head(log: AuditLog, seq: int, hashes: dict[int, str]) -> BrokenEntry | None:
    """The chain must reach the entry `head.json` names (an append may have crashed after the line)."""
    key = "_meta/audit/head.json"
    path = log.folder / "head.json"
    if not path.exists():
        if seq == 0:
            return None
        return BrokenEntry(key, 0, None, "head.json is missing, so a cut-off tail cannot be ruled out", "a head", "none")
    try:
        head = orjson.loads(path.read_bytes())
        head_seq, head_hash = int(head["seq"]), str(head["hash"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return BrokenEntry(key, 0, None, "head.json is not valid", '{"seq", "hash", "file"}', "unreadable")
    if head_seq > seq:
        reason = f"the log ends at seq {seq} but head.json records seq {head_seq}: entries were removed from the end"
        return BrokenEntry(key, 0, head_seq, reason, f"seq {head_seq}", f"seq {seq}")
    if hashes.get(head_seq) != head_hash:
        reason = f"head.json's hash is not the hash of entry {head_seq}"
        return BrokenEntry(key, 0, head_seq, reason, head_hash, hashes.get(head_seq, "none"))
    return None
