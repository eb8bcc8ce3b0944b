"""MLLP (release 1) framing: `<VT>` message `<FS><CR>`, read from a byte stream.

A TCP read can hold part of a frame, several frames, or bytes that belong to no frame. The
`FrameReader` is fed whatever arrived and returns what became complete:

- `Frame`: one payload (the bytes between `0x0B` and `0x1C 0x0D`);
- `Oversize`: a frame longer than the limit was dropped; its first bytes are kept so the
  reply can still name the message (MSA-2 = its MSH-10);
- `Garbage`: bytes outside any frame (before a start byte), or a frame abandoned because a
  new start byte came before its end; they are counted and dropped.

A frame still open when the connection closes is reported by `pending` and never acknowledged.
This module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

START = 0x0B
"""`<VT>`, the start block byte."""
END = b"\x1c\x0d"
"""`<FS><CR>`, the end block."""
HEAD_BYTES = 4096
"""How much of an oversize frame is kept to read its MSH segment."""
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
"""16 MiB: room for messages that carry documents (base64 PDFs in OBX-5)."""

_SB = bytes([START])


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Oversize:
    head: bytes  # the first HEAD_BYTES of the payload (at most the limit)
    size: int  # bytes dropped in all (at least the limit)


@dataclass(frozen=True, slots=True)
class Garbage:
    size: int
    abandoned: bool  # an unfinished frame cut short by a new start byte


Event = Frame | Oversize | Garbage


def frame(payload: bytes) -> bytes:
    """`payload` wrapped for the wire."""
    return _SB + payload + END


class FrameReader:
    """Incremental MLLP deframer for one connection."""

    __slots__ = ("_buf", "_dropped", "_head", "_in_frame", "max_frame")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if max_frame < 1:
            raise ValueError("max_frame must be at least 1 byte")
        self.max_frame = max_frame
        self._buf = bytearray()  # the open frame's bytes so far (after its start byte)
        self._in_frame = False
        self._head: bytes | None = None  # set while dropping an oversize frame
        self._dropped = 0

    @property
    def pending(self) -> int:
        """Bytes of a frame that has started but not ended (0 when between frames)."""
        if not self._in_frame:
            return 0
        return self._dropped + len(self._buf) if self._head is not None else len(self._buf) + 1

    def feed(self, data: bytes) -> list[Event]:
        """Take the next bytes of the stream; return the events they completed, in order."""
        events: list[Event] = []
        view = memoryview(data)
        pos = 0
        n = len(data)
        while pos < n:
            if not self._in_frame:
                i = data.find(_SB, pos)
                if i < 0:
                    events.append(Garbage(n - pos, False))
                    break
                if i > pos:
                    events.append(Garbage(i - pos, False))
                self._open()
                pos = i + 1
                continue
            pos = self._inside(data, view, pos, events)
        return events

    def _open(self) -> None:
        self._in_frame = True
        self._buf.clear()
        self._head = None
        self._dropped = 0

    def _inside(self, data: bytes, view: memoryview, pos: int, events: list[Event]) -> int:
        """Consume bytes of an open frame from `data[pos:]`; returns the new position."""
        if self._buf and self._buf[-1] == END[0] and data[pos] == END[1]:
            # the end block was split across two reads: `<FS>` | `<CR>`
            del self._buf[-1]
            self._close(events)
            return pos + 1
        end = data.find(END, pos)
        restart = data.find(_SB, pos, len(data) if end < 0 else end)
        if restart >= 0:
            # a new frame starts before this one ended: the open frame is abandoned
            events.append(Garbage(self.pending + (restart - pos), True))
            self._open()
            return restart + 1
        stop = end if end >= 0 else len(data)
        self._append(view[pos:stop])
        if end < 0:
            return len(data)
        self._close(events)
        return end + len(END)

    def _append(self, chunk: memoryview) -> None:
        if self._head is not None:
            # dropping an oversize frame: keep only a trailing `<FS>` that may start the end block
            self._dropped += len(self._buf) + len(chunk)
            self._buf.clear()
            if len(chunk) and chunk[-1] == END[0]:
                self._dropped -= 1
                self._buf.append(END[0])
            return
        self._buf += chunk
        if len(self._buf) > self.max_frame + 1:  # + 1: a possible split `<FS>`
            self._head = bytes(self._buf[: min(HEAD_BYTES, self.max_frame)])
            last = self._buf[-1]
            self._dropped = len(self._buf)
            self._buf.clear()
            if last == END[0]:
                self._dropped -= 1
                self._buf.append(last)

    def _close(self, events: list[Event]) -> None:
        if self._head is not None:
            events.append(Oversize(self._head, self._dropped + len(self._buf)))
        elif len(self._buf) > self.max_frame:
            events.append(Oversize(bytes(self._buf[: min(HEAD_BYTES, self.max_frame)]), len(self._buf)))
        else:
            events.append(Frame(bytes(self._buf)))
        self._in_frame = False
        self._buf.clear()
        self._head = None
        self._dropped = 0
