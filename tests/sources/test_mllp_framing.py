"""MLLP deframing: whatever way the bytes are cut into reads, the same frames come out."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from medlake.sources.mllp_framing import HEAD_BYTES, Frame, FrameReader, Garbage, Oversize, frame

MSG = b"MSH|^~\\&|APP|FAC|RCV|RFAC|20240101120000||ADT^A01|C1|P|2.5\rPID|1||123\r"


def feed_all(reader: FrameReader, chunks: list[bytes]) -> list[object]:
    out: list[object] = []
    for c in chunks:
        out.extend(reader.feed(c))
    return out


def test_one_frame_byte_by_byte() -> None:
    wire = frame(MSG)
    events = feed_all(FrameReader(), [wire[i : i + 1] for i in range(len(wire))])
    assert events == [Frame(MSG)]


def test_many_frames_in_one_read() -> None:
    payloads = [MSG.replace(b"C1", f"C{i}".encode()) for i in range(50)]
    events = FrameReader().feed(b"".join(frame(p) for p in payloads))
    assert events == [Frame(p) for p in payloads]


def test_end_block_split_between_reads() -> None:
    r = FrameReader()
    assert r.feed(b"\x0b" + MSG + b"\x1c") == []
    assert r.pending == len(MSG) + 2
    assert r.feed(b"\r") == [Frame(MSG)]
    assert r.pending == 0


def test_a_lone_fs_inside_a_frame_is_data() -> None:
    body = b"MSH|x\x1cy\r"
    assert FrameReader().feed(frame(body)) == [Frame(body)]
    r = FrameReader()
    assert r.feed(b"\x0bMSH|x\x1c") == []
    assert r.feed(b"y\r\x1c\r") == [Frame(body)]


def test_garbage_before_and_between_frames_is_counted_and_dropped() -> None:
    events = FrameReader().feed(b"hello" + frame(MSG) + b"\r\n\x00" + frame(MSG) + b"tail")
    assert events == [Garbage(5, False), Frame(MSG), Garbage(3, False), Frame(MSG), Garbage(4, False)]


def test_bytes_without_a_start_byte_never_make_a_frame() -> None:
    r = FrameReader()
    assert r.feed(MSG + b"\x1c\r") == [Garbage(len(MSG) + 2, False)]
    assert r.pending == 0


def test_missing_end_leaves_the_frame_pending() -> None:
    r = FrameReader()
    assert r.feed(b"\x0b" + MSG) == []
    assert r.pending == len(MSG) + 1  # the caller counts it as incomplete when the peer closes


def test_a_new_start_byte_abandons_the_open_frame() -> None:
    r = FrameReader()
    events = r.feed(b"\x0bMSH|half" + frame(MSG))
    assert events == [Garbage(len(b"\x0bMSH|half"), True), Frame(MSG)]


def test_oversize_frame_is_dropped_with_its_head_kept() -> None:
    r = FrameReader(max_frame=100_000)
    big = MSG + b"OBX|1|ED|||" + b"A" * 200_000 + b"\r"
    assert r.feed(frame(big)) == [Oversize(big[:HEAD_BYTES], len(big))]


def test_oversize_frame_streamed_in_small_reads() -> None:
    big = MSG + b"OBX|1|ED|||" + b"A" * 10_000 + b"\r"
    r = FrameReader(max_frame=1_000)
    events = feed_all(r, [frame(big)[i : i + 333] for i in range(0, len(big) + 2, 333)] + [frame(MSG)])
    assert events == [Oversize(big[:1_000], len(big)), Frame(MSG)]
    assert r.pending == 0


def test_frame_of_exactly_the_limit_passes_and_one_more_byte_does_not() -> None:
    r = FrameReader(max_frame=len(MSG))
    assert r.feed(frame(MSG)) == [Frame(MSG)]
    over = MSG + b"X"
    assert r.feed(frame(over)) == [Oversize(MSG, len(over))]
    # split so the buffer holds the limit plus the `<FS>` of the end block
    assert feed_all(r, [b"\x0b" + MSG + b"\x1c", b"\r"]) == [Frame(MSG)]


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(
        st.binary(max_size=60).map(lambda b: b.replace(b"\x0b", b"")).filter(lambda b: b"\x1c\r" not in b),
        max_size=6,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=12),
)
def test_any_split_gives_the_same_frames(payloads: list[bytes], cuts: list[int]) -> None:
    wire = b"".join(frame(p) for p in payloads)
    points = sorted({min(c, len(wire)) for c in cuts} | {0, len(wire)})
    chunks = [wire[a:b] for a, b in itertools.pairwise(points) if b > a]
    events = feed_all(FrameReader(), chunks)
    assert events == [Frame(p) for p in payloads]
