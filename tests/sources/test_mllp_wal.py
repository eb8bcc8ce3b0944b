"""The write-ahead log: self-delimiting, checksummed records; torn tails are detected and skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medlake.errors import SourceError
from medlake.sources.mllp_batch import segment_objects
from medlake.sources.mllp_wal import (
    HEADER_BYTES,
    IDX_BYTES,
    IDX_NAME,
    FolderLock,
    Record,
    SegmentWriter,
    append_landed,
    encode,
    message_key,
    read_landed,
    read_segment,
    scan,
    segment_name,
    segments,
)


def rec(i: int, body: bytes | None = None) -> Record:
    payload = body or f"MSH|^~\\&|A|F|R|RF|2024||ADT^A01|C{i}|P|2.5\rPID|1||{i}\r".encode()
    return Record(message_key("A", "F", f"C{i}", payload), 1_700_000_000_000_000 + i, payload)


def test_records_round_trip() -> None:
    records = [rec(i) for i in range(5)]
    out = scan(b"".join(encode(r) for r in records))
    assert out.records == records
    assert (out.skipped_bytes, out.torn_tail) == (0, False)


def test_a_torn_tail_at_any_byte_keeps_exactly_the_complete_records() -> None:
    records = [rec(i) for i in range(3)]
    data = b"".join(encode(r) for r in records)
    ends = [len(b"".join(encode(r) for r in records[: k + 1])) for k in range(3)]
    for cut in range(len(data) + 1):
        out = scan(data[:cut])
        complete = sum(1 for e in ends if e <= cut)
        assert out.records == records[:complete], cut
        assert out.torn_tail == (cut not in (0, *ends)), cut


def test_a_damaged_record_is_skipped_and_the_ones_after_it_are_kept() -> None:
    records = [rec(i) for i in range(3)]
    blobs = [bytearray(encode(r)) for r in records]
    blobs[1][HEADER_BYTES + 5] ^= 0xFF  # flip a payload byte: its CRC no longer matches
    out = scan(b"".join(bytes(b) for b in blobs))
    assert out.records == [records[0], records[2]]
    assert out.skipped_bytes == len(blobs[1])
    assert not out.torn_tail


def test_message_key_covers_sender_control_id_and_bytes() -> None:
    k = message_key("A", "F", "C1", b"x")
    assert len(k) == 16
    assert k == message_key("A", "F", "C1", b"x")
    assert len({k, message_key("B", "F", "C1", b"x"), message_key("A", "G", "C1", b"x"),
                message_key("A", "F", "C2", b"x"), message_key("A", "F", "C1", b"y")}) == 5


def test_segment_writer_appends_and_reads_back(tmp_path: Path) -> None:
    w = SegmentWriter(tmp_path, 7)
    w.append([rec(1), rec(2)])
    w.append([rec(3)])
    w.close()
    assert segments(tmp_path) == [7]
    assert (tmp_path / segment_name(7)).name == "wal-000000000007.log"
    assert read_segment(tmp_path, 7).records == [rec(1), rec(2), rec(3)]
    assert w.records == 3


def test_landed_index_round_trip_window_and_torn_tail(tmp_path: Path) -> None:
    append_landed(tmp_path, 3, [b"a" * 16, b"b" * 16], now=1_000)
    append_landed(tmp_path, 4, [], now=2_000)  # an empty segment still moves the counter
    append_landed(tmp_path, 5, [b"c" * 16], now=3_000)
    got = read_landed(tmp_path, window_seconds=1_500, now=4_000)
    assert got.keys == {b"c" * 16: 3_000}
    assert (got.last_segment, got.expired) == (5, 2)
    with open(tmp_path / IDX_NAME, "ab") as fh:
        fh.write(b"\x01" * (IDX_BYTES // 2))  # a torn append
    assert read_landed(tmp_path, 10_000, now=4_000).keys == {b"a" * 16: 1_000, b"b" * 16: 1_000, b"c" * 16: 3_000}
    append_landed(tmp_path, 6, [b"d" * 16], now=5_000)  # the torn tail is cut before appending
    assert os.path.getsize(tmp_path / IDX_NAME) % IDX_BYTES == 0
    assert read_landed(tmp_path, 10_000, now=5_000).last_segment == 6


def test_segment_objects_are_deterministic_and_split_by_charset() -> None:
    utf8 = rec(1)
    latin = rec(2, "MSH|^~\\&|A|F|R|RF|2024||ADT^A01|C2|P|2.5||||||8859/1\rPID|1||Zoë\r".encode("latin-1"))
    unterminated = rec(3, b"\xef\xbb\xbfMSH|^~\\&|A|F|R|RF|2024||ADT^A01|C3|P|2.5\rPID|1||3")
    objs = segment_objects(9, [utf8, latin, unterminated])
    assert objs == segment_objects(9, [utf8, latin, unterminated])
    assert [name for name, _ in objs] == ["mllp-000000000009-1.hl7", "mllp-000000000009-2.hl7"]
    assert objs[0][1] == utf8.payload + unterminated.payload[3:] + b"\r"
    assert objs[1][1] == latin.payload
    assert segment_objects(9, [utf8]) == [("mllp-000000000009.hl7", utf8.payload)]
    assert segment_objects(9, []) == []


def test_one_listener_per_wal_folder(tmp_path: Path) -> None:
    first = FolderLock(tmp_path)
    first.acquire()
    with pytest.raises(SourceError, match=r"another listener \(pid \d+\) is using the write-ahead log"):
        FolderLock(tmp_path).acquire()
    first.release()
    again = FolderLock(tmp_path)
    again.acquire()
    again.release()
