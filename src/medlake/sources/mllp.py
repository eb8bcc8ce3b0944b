"""The MLLP listener: HL7 v2 over TCP (optionally TLS) into the write-ahead log, then the lake.

    sender ──MLLP──► frame ─► judge ─► WAL append + fsync (group commit) ─► ACK AA
                                   └─► AE/AR + ERR (not accepted)
    every `batch_seconds`: roll the WAL segment ─► land closed segments ─► land → bronze → silver

- An AA (or CA) is sent only after the message is fsync'd in the WAL. Messages that arrive
  in the same event-loop iteration are written with one fsync, in a writer thread, while the
  loop goes on reading; each connection's replies go out in the order its frames came in.
- A retransmission — same MSH-3, MSH-4, MSH-10 and bytes as a message accepted before — is
  acknowledged again but not stored twice (`landed.idx` + the segments rebuild the index).
- Landing and the pipeline run in a worker process (`mllp_batch`); a segment is deleted only
  after its objects are in landing. After a crash, leftover segments (valid records only)
  are landed before the listener accepts connections again.
- Stopping (SIGTERM/SIGINT or `request_stop`): stop accepting and reading, acknowledge the
  frames already received, close the WAL, land it and run the pipeline one last time.

Log lines (`on_event`) carry counts and ids only, never message content.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from medlake.errors import SourceError
from medlake.sources.mllp_accept import Verdict
from medlake.sources.mllp_batch import BatchError, BatchWorker, LandResult, safe_error
from medlake.sources.mllp_connection import Connection, ListenStats, tls_context
from medlake.sources.mllp_framing import DEFAULT_MAX_FRAME
from medlake.sources.mllp_wal import (
    FolderLock,
    Record,
    SegmentWriter,
    compact_landed,
    fsync_dir,
    read_landed,
    read_segment,
    segments,
)


@dataclass(frozen=True)
class ListenSettings:
    host: str = "127.0.0.1"
    port: int = 2575
    batch_seconds: float = 2.0
    max_frame: int = DEFAULT_MAX_FRAME
    processing_id: str | None = None
    dedup_hours: float = 24.0
    tls_cert: str | None = None
    tls_key: str | None = None
    drain_seconds: float = 10.0
    final_run_seconds: float = 60.0  # how long the last pipeline run waits for a busy tenant


class Listener:
    """One source's MLLP listener. `serve()` runs until `request_stop()` (or a signal)."""

    def __init__(
        self,
        settings: ListenSettings,
        wal_dir: Path,
        worker: BatchWorker | None,
        name: str = "mllp",
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.wal_dir = wal_dir
        self.worker = worker
        self.name = name
        self.stats = ListenStats()
        self._say = on_event or (lambda _s: None)
        self._lock = FolderLock(wal_dir)
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mllp-wal")
        self._durable: set[bytes] = set()
        self._expiry: deque[tuple[float, bytes]] = deque()
        self._inflight: dict[bytes, asyncio.Future[bool]] = {}
        self._pending: list[tuple[Record, asyncio.Future[bool]]] = []
        self._writing = False
        self._flush_soon = False
        self._segment: SegmentWriter | None = None
        self.connections: set[Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._run_due = False
        self.address: tuple[str, int] | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def serve(self, ready: Callable[[str, int], None] | None = None, signals: bool = False) -> ListenStats:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._internal_error)
        self._stop = asyncio.Event()
        self.wal_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.wal_dir, *list(self.wal_dir.parents)[:2]):
            fsync_dir(folder)  # a new WAL folder must itself survive a power cut
        self._lock.acquire()
        try:
            if signals:
                import signal

                for sig in (signal.SIGTERM, signal.SIGINT):
                    self._loop.add_signal_handler(sig, self.request_stop)
            server = await self._start_server()  # bound now (a busy port fails fast), served below
            leftover = await self._loop.run_in_executor(self._io, self._open_wal)
            if self.worker is not None:
                await asyncio.to_thread(self.worker.start)
                if leftover:
                    await self._land(leftover, "recovered")
            await server.start_serving()
            sock = server.sockets[0].getsockname()
            self.address = (str(sock[0]), int(sock[1]))
            self._say(f"listening on {self.address[0]}:{self.address[1]}{' (TLS)' if self.settings.tls_cert else ''}")
            if ready:
                ready(*self.address)
            batches = asyncio.create_task(self._batch_loop())
            await self._stop.wait()
            await self._shutdown(server, batches)
        finally:
            await self._loop.run_in_executor(self._io, self._close_segment)
            self._io.shutdown(wait=True)
            if self.worker is not None:
                await asyncio.to_thread(self.worker.close)
            self._lock.release()
        return self.stats

    def _internal_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        """A bug or an OS error inside a callback (asyncio then closes that connection): say so
        without the details, which may hold message text."""
        self.stats.internal_errors += 1
        exc = context.get("exception")
        self._say(f"internal error: {type(exc).__name__ if exc else context.get('message', '?')}")

    def request_stop(self) -> None:
        """Ask `serve()` to stop (safe from any thread)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    async def _start_server(self) -> asyncio.Server:
        assert self._loop is not None
        s = self.settings
        ctx = tls_context(s.tls_cert, s.tls_key) if s.tls_cert or s.tls_key else None
        try:
            return await self._loop.create_server(lambda: Connection(self), s.host, s.port, ssl=ctx, start_serving=False)
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise SourceError(
                f"cannot listen on {s.host}:{s.port}: {why}; choose another `--port` or stop the "
                "program using it",
                host=s.host,
                port=s.port,
            ) from None

    def _open_wal(self) -> list[int]:
        """(I/O thread) Rebuild the de-duplication index; open a fresh segment; return leftovers."""
        window = self.settings.dedup_hours * 3600
        landed = read_landed(self.wal_dir, window)
        compact_landed(self.wal_dir, landed)
        for key, when in sorted(landed.keys.items(), key=lambda kv: kv[1]):
            self._remember(key, float(when))
        leftover = segments(self.wal_dir)
        torn = skipped = 0
        for n in leftover:
            scan = read_segment(self.wal_dir, n)
            for r in scan.records:
                self._remember(r.key, r.received_us / 1e6)
            self.stats.recovered_messages += len(scan.records)
            torn += scan.torn_tail
            skipped += scan.skipped_bytes
        if leftover:
            self._say(
                f"recovered {len(leftover)} segment(s) of the write-ahead log: {self.stats.recovered_messages:,} "
                f"message(s), {torn} torn tail(s), {skipped:,} byte(s) skipped"
            )
        last = max([landed.last_segment, *leftover])
        self._segment = SegmentWriter(self.wal_dir, last + 1)
        return leftover

    def _remember(self, key: bytes, when: float) -> None:
        if key not in self._durable:
            self._durable.add(key)
            self._expiry.append((when, key))

    def _forget_expired(self) -> None:
        cutoff = time.time() - self.settings.dedup_hours * 3600
        while self._expiry and self._expiry[0][0] < cutoff:
            self._durable.discard(self._expiry.popleft()[1])

    def _close_segment(self) -> None:
        seg = self._segment
        if seg is not None:
            seg.close()
            if not seg.records and seg.size == 0:
                seg.path.unlink(missing_ok=True)  # nothing was written: leave no empty segment behind
            self._segment = None

    def _roll(self) -> list[int]:
        """(I/O thread) Start a new segment if the current one holds records; return the closed ones."""
        seg = self._segment
        if seg is not None and seg.records:
            self._segment = SegmentWriter(self.wal_dir, seg.number + 1)  # if this fails, writes go on in `seg`
            seg.close()
        active = self._segment.number if self._segment is not None else None
        return [n for n in segments(self.wal_dir) if n != active]

    # -- group commit ---------------------------------------------------------------------------
    def admit(self, v: Verdict, payload: bytes) -> asyncio.Future[bool] | bool:
        """Store an accepted message: True when it is already durable (a retransmission), else a
        future that says whether the write reached the disk."""
        key = v.key
        assert key is not None and self._loop is not None
        if key in self._durable:
            self.stats.duplicates += 1
            return True
        fut = self._inflight.get(key)
        if fut is not None:
            self.stats.duplicates += 1
            return fut
        fut = self._loop.create_future()
        self._inflight[key] = fut
        self._pending.append((Record(key, time.time_ns() // 1000, payload), fut))
        if not self._writing and not self._flush_soon:
            self._flush_soon = True
            self._loop.call_soon(self._flush)  # after every frame of this loop iteration is in
        return fut

    def _flush(self) -> None:
        self._flush_soon = False
        if self._writing or not self._pending or self._loop is None:
            return
        batch, self._pending = self._pending, []
        self._writing = True
        done = self._loop.run_in_executor(self._io, self._write, [r for r, _ in batch])
        done.add_done_callback(lambda f: self._written(batch, f))

    def _write(self, records: list[Record]) -> None:
        if self._segment is None:
            raise SourceError("the write-ahead log is closed")
        self._segment.append(records)

    def _written(self, batch: list[tuple[Record, asyncio.Future[bool]]], f: asyncio.Future[None]) -> None:
        self._writing = False
        ok = not f.cancelled() and f.exception() is None
        now = time.time()
        if ok:
            self.stats.fsyncs += 1
            self.stats.accepted += len(batch)
        else:
            self.stats.write_errors += 1
        for rec, fut in batch:
            self._inflight.pop(rec.key, None)
            if ok:
                self._remember(rec.key, now)
            if not fut.done():
                fut.set_result(ok)
        if self._pending:
            self._flush()

    @property
    def idle(self) -> bool:
        return not self._pending and not self._writing and all(c.idle for c in self.connections)

    # -- micro-batches --------------------------------------------------------------------------
    async def _batch_loop(self) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.settings.batch_seconds)
            if self._stop.is_set():
                return
            try:
                await self._batch()
            except Exception as e:  # the WAL keeps everything: keep receiving, try again next time
                self._say(f"micro-batch failed ({safe_error(e)}); the write-ahead log keeps the messages")

    async def _batch(self, final: bool = False) -> None:
        """Roll the WAL, land the closed segments, run the pipeline when something new landed."""
        assert self._loop is not None
        self._forget_expired()
        closed = await self._loop.run_in_executor(self._io, self._roll)
        if self.worker is None:
            return
        if closed:
            await self._land(closed, "final batch" if final else f"batch {self.stats.batches + 1}")
        if self._run_due:
            await self._run_pipeline(self.settings.final_run_seconds if final else 0.0)

    async def _run_pipeline(self, wait_busy: float) -> None:
        """land → bronze → silver for the source; waits up to `wait_busy` s for a busy tenant."""
        assert self.worker is not None
        deadline = time.monotonic() + wait_busy
        while True:
            try:
                out = await asyncio.to_thread(self.worker.run)
                break
            except BatchError as e:
                if "busy" in str(e) and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    continue
                self.stats.pipeline_errors += 1
                self._say(f"pipeline not run: {e}; the landed messages are kept and picked up by the next run")
                return
        self._run_due = False
        self.stats.pipeline_runs += 1
        b, s = out.get("bronze", {}), out.get("silver", {})
        self._say(
            f"pipeline {out['run_id']}: bronze {b.get('rows', 0):,} row(s), {b.get('duplicates', 0):,} duplicate(s) "
            f"skipped, {b.get('quarantined_records', 0):,} quarantined; silver {s.get('inserted', 0):,} new, "
            f"{s.get('updated', 0):,} updated, {s.get('quarantined', 0):,} quarantined ({out['seconds']:.1f} s)"
        )

    async def _land(self, numbers: list[int], label: str) -> None:
        assert self.worker is not None
        try:
            res: LandResult = await asyncio.to_thread(self.worker.land, numbers)
        except BatchError as e:
            self._say(f"{label}: landing failed ({e}); the segments are kept and tried again")
            return
        self.stats.batches += 1
        self.stats.landed_messages += res.messages
        self.stats.landed_objects += res.new_objects
        self._run_due = self._run_due or res.segments > 0
        self._say(
            f"{label}: {res.messages:,} message(s) from {res.segments} segment(s) landed in {res.objects} "
            f"object(s) ({res.objects - res.new_objects} already there); totals: {self.stats.line()}"
        )

    # -- stopping ---------------------------------------------------------------------------------
    async def _shutdown(self, server: asyncio.Server, batches: asyncio.Task[None]) -> None:
        self._say("stopping: no new connections; acknowledging the frames already received")
        server.close()
        for c in list(self.connections):
            c.stop_reading()
        deadline = time.monotonic() + self.settings.drain_seconds
        while not self.idle and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for c in list(self.connections):
            c.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=self.settings.drain_seconds)
        await batches
        await self._batch(final=True)
        self._say(f"stopped; {self.stats.line()}")
