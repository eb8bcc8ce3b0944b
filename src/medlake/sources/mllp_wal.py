"""The MLLP listener's write-ahead log: messages are fsync'd here before they are acknowledged.

Layout of one source's WAL folder (by default `<lake>/<tenant>/_meta/mllp/<source>/`):

    wal-000000000042.log   segments; the highest is the one being written
    landed.idx             keys of messages already landed (for de-duplication after restart)
    listener.lock          held (flock) by the running listener

A segment is a sequence of self-delimiting records:

    magic `\\xa7MLW` | payload length u32 | received at (µs since epoch) u64 | key 16 bytes | CRC-32 u32 | payload

The CRC covers the header fields before it and the payload. A reader keeps every record whose
magic, length and CRC check out and skips anything else (a torn tail after a crash, or a bad
stretch, after which it looks for the next magic); a skipped record was never acknowledged.

`landed.idx` holds fixed-size records `segment u64 | unix seconds u64 | key 16 bytes | CRC-32`,
appended when a segment is landed (before the segment is deleted), so that retransmissions of
messages landed earlier are still recognised, and so segment numbers keep growing.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medlake.errors import SourceError

MAGIC = b"\xa7MLW"
_HEADER = struct.Struct("<4sIQ16s")
_CRC = struct.Struct("<I")
HEADER_BYTES = _HEADER.size + _CRC.size
_IDX = struct.Struct("<QQ16s")
IDX_BYTES = _IDX.size + _CRC.size
_SEGMENT = re.compile(r"^wal-(\d{12})\.log$")
MAX_PAYLOAD = 2**32 - 1


def message_key(sender_app: str, sender_facility: str, control_id: str, payload: bytes) -> bytes:
    """The de-duplication key: (MSH-3, MSH-4, MSH-10, SHA-256 of the payload), hashed to 16 bytes."""
    content = hashlib.sha256(payload).digest()
    head = "\x00".join((sender_app, sender_facility, control_id)).encode("utf-8", "surrogateescape")
    return hashlib.sha256(head + b"\x00" + content).digest()[:16]


@dataclass(frozen=True, slots=True)
class Record:
    key: bytes
    received_us: int
    payload: bytes


def encode(rec: Record) -> bytes:
    if len(rec.key) != 16:
        raise ValueError("a WAL key is 16 bytes")
    header = _HEADER.pack(MAGIC, len(rec.payload), rec.received_us, rec.key)
    crc = zlib.crc32(rec.payload, zlib.crc32(header))
    return header + _CRC.pack(crc) + rec.payload


@dataclass
class Scan:
    """What a segment held: its valid records, and how many bytes were skipped."""

    records: list[Record] = field(default_factory=list)
    skipped_bytes: int = 0
    torn_tail: bool = False  # the file ends inside a record (a write cut short)


def scan(data: bytes) -> Scan:
    """Every valid record in `data`, in order; invalid stretches are skipped."""
    out = Scan()
    pos, n = 0, len(data)
    while pos < n:
        ok, size = _record_at(data, pos)
        if ok:
            length = size - HEADER_BYTES
            _, _, received, key = _HEADER.unpack_from(data, pos)
            out.records.append(Record(key, received, data[pos + HEADER_BYTES : pos + HEADER_BYTES + length]))
            pos += size
            continue
        nxt = data.find(MAGIC, pos + 1)
        if nxt < 0:
            out.skipped_bytes += n - pos
            out.torn_tail = True
            break
        out.skipped_bytes += nxt - pos
        pos = nxt
    return out


def _record_at(data: bytes, pos: int) -> tuple[bool, int]:
    if len(data) - pos < HEADER_BYTES or data[pos : pos + 4] != MAGIC:
        return False, 0
    _, length, _, _ = _HEADER.unpack_from(data, pos)
    end = pos + HEADER_BYTES + length
    if end > len(data):
        return False, 0
    (crc,) = _CRC.unpack_from(data, pos + _HEADER.size)
    body = memoryview(data)[pos + HEADER_BYTES : end]
    if zlib.crc32(body, zlib.crc32(memoryview(data)[pos : pos + _HEADER.size])) != crc:
        return False, 0
    return True, end - pos


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_sync = getattr(os, "fdatasync", os.fsync)


class SegmentWriter:
    """Appends records to one segment file; `append` returns only once they are on disk."""

    def __init__(self, folder: Path, number: int) -> None:
        self.number = number
        self.path = folder / segment_name(number)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self._fd).st_size
        self.records = 0
        fsync_dir(folder)  # the new name must survive a crash before anything in it is acknowledged

    def append(self, records: list[Record]) -> int:
        """Write and fsync; on failure the file is cut back to where it was (nothing half-kept)."""
        data = b"".join(encode(r) for r in records)
        before = self.size
        try:
            view = memoryview(data)
            while view:
                k = os.write(self._fd, view)
                view = view[k:]
            _sync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, before)
                _sync(self._fd)
            except OSError:
                pass  # the reader skips whatever is left half-written
            raise
        self.size = before + len(data)
        self.records += len(records)
        return len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def segment_name(number: int) -> str:
    return f"wal-{number:012d}.log"


def segments(folder: Path) -> list[int]:
    """Numbers of the segment files in `folder`, ascending."""
    if not folder.exists():
        return []
    out = []
    for p in folder.iterdir():
        m = _SEGMENT.match(p.name)
        if m:
            out.append(int(m.group(1)))
    return sorted(out)


def read_segment(folder: Path, number: int) -> Scan:
    return scan((folder / segment_name(number)).read_bytes())


# -- landed.idx -----------------------------------------------------------------------------

IDX_NAME = "landed.idx"


@dataclass
class LandedKeys:
    """Keys landed within the de-duplication window, with when they were landed."""

    keys: dict[bytes, int] = field(default_factory=dict)  # key -> unix seconds
    last_segment: int = 0
    expired: int = 0
    valid_bytes: int = 0


def read_landed(folder: Path, window_seconds: float, now: float | None = None) -> LandedKeys:
    path = folder / IDX_NAME
    out = LandedKeys()
    if not path.exists():
        return out
    data = path.read_bytes()
    cutoff = (now if now is not None else time.time()) - window_seconds
    pos = 0
    while pos + IDX_BYTES <= len(data):
        body = data[pos : pos + _IDX.size]
        (crc,) = _CRC.unpack_from(data, pos + _IDX.size)
        if zlib.crc32(body) != crc:
            break  # appends are sequential and fsync'd: only the tail can be torn
        seg, when, key = _IDX.unpack(body)
        out.last_segment = max(out.last_segment, seg)
        if key != bytes(16):
            if when >= cutoff:
                out.keys[key] = when
            else:
                out.expired += 1
        pos += IDX_BYTES
    out.valid_bytes = pos
    return out


def _idx_records(entries: Iterable[tuple[int, int, bytes]]) -> bytes:
    parts = []
    for seg, when, key in entries:
        body = _IDX.pack(seg, when, key)
        parts.append(body + _CRC.pack(zlib.crc32(body)))
    return b"".join(parts)


def append_landed(folder: Path, segment: int, keys: Iterable[bytes], now: float | None = None) -> None:
    """Record that `segment` (and these keys) landed; fsync'd before it returns."""
    when = int(now if now is not None else time.time())
    path = folder / IDX_NAME
    entries = [(segment, when, k) for k in keys] or [(segment, when, bytes(16))]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        valid = size - size % IDX_BYTES
        if valid != size:
            os.ftruncate(fd, valid)  # a torn tail from a crash: drop it before appending
        os.lseek(fd, valid, os.SEEK_SET)
        data = memoryview(_idx_records(entries))
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def compact_landed(folder: Path, landed: LandedKeys) -> bool:
    """Rewrite `landed.idx` without expired keys when they make up most of it."""
    if landed.expired < 10_000 or landed.expired < len(landed.keys):
        return False
    entries = [(landed.last_segment, t, k) for k, t in landed.keys.items()]
    entries.append((landed.last_segment, int(time.time()), bytes(16)))
    tmp = folder / (IDX_NAME + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(_idx_records(entries))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / IDX_NAME)
    fsync_dir(folder)
    landed.expired = 0
    return True


# -- the folder lock -------------------------------------------------------------------------


class FolderLock:
    """An exclusive `flock` on `listener.lock`: one listener per WAL folder. The kernel
    releases it when the process dies, however it dies."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "listener.lock"
        self._fd = -1

    def acquire(self) -> None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SourceError(
                f"another listener (pid {held}) is using the write-ahead log in `{self.path.parent}`; "
                "stop it first, or give this one another `--wal-dir`",
                path=str(self.path.parent),
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
