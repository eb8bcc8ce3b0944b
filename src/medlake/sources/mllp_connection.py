"""One MLLP connection of the listener: frames in, replies out in the order the frames came.

The connection judges each frame (`mllp_accept`), hands accepted messages to the listener's
group commit, and writes each reply once its message is durable (or at once, for a reject or
a retransmission already stored). When too many replies wait, it stops reading until they
are sent (backpressure). Also: the listener's counters and its TLS context.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from medlake.errors import SourceError
from medlake.sources.mllp_accept import judge, oversize_verdict, reply
from medlake.sources.mllp_framing import Frame, FrameReader, Garbage

if TYPE_CHECKING:
    from medlake.sources.mllp import Listener

PAUSE_AT = 2_000
"""Replies waiting on one connection before it stops reading (backpressure)."""
PAUSE_BYTES = 64 * 1024 * 1024
"""Bytes of messages waiting for the disk on one connection before it stops reading."""


@dataclass
class ListenStats:
    connections: int = 0
    frames: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    acks: int = 0
    silent: int = 0  # replies not sent because MSH-15/16 said so
    garbage_bytes: int = 0
    oversize: int = 0
    incomplete: int = 0  # frames cut short (connection closed, or a new start byte)
    write_errors: int = 0
    fsyncs: int = 0
    batches: int = 0
    landed_messages: int = 0
    landed_objects: int = 0
    pipeline_runs: int = 0
    pipeline_errors: int = 0
    recovered_messages: int = 0
    internal_errors: int = 0

    def line(self) -> str:
        keys = ("accepted", "duplicates", "rejected", "acks", "garbage_bytes", "incomplete", "landed_messages")
        return ", ".join(f"{k.replace('_', ' ')} {getattr(self, k):,}" for k in keys)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def tls_context(cert: str | None, key: str | None) -> Any:
    import ssl

    if not cert or not key:
        raise SourceError("TLS needs both `--tls-cert` and `--tls-key` (PEM files)")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise SourceError(
            f"cannot load the TLS certificate `{cert}` / key `{key}`: {getattr(e, 'strerror', None) or e}; "
            "give PEM files (the key unencrypted)",
            cert=cert,
        ) from None
    return ctx


class Connection(asyncio.Protocol):
    """One sender's connection: frames in, replies out in the same order."""

    def __init__(self, listener: Listener) -> None:
        self.owner = listener
        self.stats = listener.stats
        self.reader = FrameReader(listener.settings.max_frame)
        self.queue: deque[Any] = deque()  # bytes | None (ready) or (future, verdict, size)
        self.waiting_bytes = 0  # payload bytes in the queue not yet on disk
        self.transport: asyncio.Transport | None = None
        self.paused = False
        self.stopping = False
        self.write_blocked = False  # the peer does not read its replies fast enough

    @property
    def idle(self) -> bool:
        return not self.queue or self.transport is None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.owner.connections.add(self)
        self.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reader.pending:
            self.stats.incomplete += 1
        self.owner.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        for ev in self.reader.feed(data):
            if isinstance(ev, Frame):
                self._frame(ev.payload)
            elif isinstance(ev, Garbage):
                self.stats.garbage_bytes += ev.size
                self.stats.incomplete += ev.abandoned
            else:
                self.stats.oversize += 1
                self.stats.rejected += 1
                self.queue.append(reply(oversize_verdict(ev.head, ev.size, self.reader.max_frame)))
        self._drain()

    def _frame(self, payload: bytes) -> None:
        self.stats.frames += 1
        v = judge(payload, self.owner.settings.processing_id, self.owner.name)
        if not v.accepted:
            self.stats.rejected += 1
            self.queue.append(reply(v))
            return
        stored = self.owner.admit(v, payload)
        if stored is True:
            self.queue.append(reply(v, True))
            return
        assert isinstance(stored, asyncio.Future)
        self.queue.append((stored, v, len(payload)))
        self.waiting_bytes += len(payload)
        stored.add_done_callback(self._on_stored)

    def _on_stored(self, _f: asyncio.Future[bool]) -> None:
        self._drain()

    def _drain(self) -> None:
        q = self.queue
        out: list[bytes] = []
        while q:
            item = q[0]
            if type(item) is tuple:
                fut, v, size = item
                if not fut.done():
                    break
                data = reply(v, fut.result())
                self.waiting_bytes -= size
            else:
                data = item
            q.popleft()
            if data is None:
                self.stats.silent += 1
            else:
                out.append(data)
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))
            self.stats.acks += len(out)
        self._flow()

    def _flow(self) -> None:
        """Stop reading while replies or bytes pile up (or the peer does not read); go on once
        they are down to a quarter."""
        t = self.transport
        if t is None:
            return
        n, b = len(self.queue), self.waiting_bytes
        if not self.paused and (self.stopping or self.write_blocked or n >= PAUSE_AT or b >= PAUSE_BYTES):
            self.paused = True
            t.pause_reading()
        elif self.paused and not (self.stopping or self.write_blocked) and n < PAUSE_AT // 4 and b < PAUSE_BYTES // 4:
            self.paused = False
            t.resume_reading()

    def pause_writing(self) -> None:
        self.write_blocked = True
        self._flow()

    def resume_writing(self) -> None:
        self.write_blocked = False
        self._flow()

    def stop_reading(self) -> None:
        self.stopping = True
        self._flow()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()  # sends what is buffered first
