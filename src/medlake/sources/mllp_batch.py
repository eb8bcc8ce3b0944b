"""Micro-batches of the MLLP listener: closed WAL segments → landing, then the pipeline.

`land_segments` turns each closed segment into `.hl7` objects in the landing zone (the
segment's valid records, in order, one object per character set so each object decodes as a
whole), records the segment's keys in `landed.idx`, and only then deletes the segment. The
bytes of a segment's objects depend only on the segment, so landing a segment again after a
crash is a no-op (landing is content-addressed).

The jobs run in one spawned worker process (`BatchWorker`): delta-rs, the parsers and the
mappers then use another core and never hold the listener's GIL. The worker exits on its own
when the listener dies, however it dies.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlake.config import ProjectConfig
from medlake.errors import ConfigError, LakeError, SourceError
from medlake.formats.hl7v2.charset import CHARSETS, declared_charset
from medlake.sources.mllp_wal import Record, append_landed, fsync_dir, read_segment, segment_name

STAGES = ("land", "bronze", "silver")


@dataclass
class LandResult:
    segments: int = 0
    messages: int = 0
    objects: int = 0
    new_objects: int = 0
    skipped_bytes: int = 0
    torn: int = 0


def segment_objects(number: int, records: list[Record]) -> list[tuple[str, bytes]]:
    """(original name, bytes) of the landing objects for one segment.

    Each message keeps its bytes; a message that does not end in a segment terminator gets a
    `\\r` (so the next one starts a new segment), and a leading UTF-8 byte-order mark is
    dropped (in the middle of a file it would be text, not a marker).
    """
    groups: dict[str, list[bytes]] = {}
    for r in records:
        p = r.payload
        if p.startswith(b"\xef\xbb\xbf"):
            p = p[3:]
        if not p.endswith((b"\r", b"\n")):
            p += b"\r"
        declared = declared_charset(p)
        codec = (CHARSETS.get(declared.upper()) if declared else None) or "utf-8"
        groups.setdefault(codec, []).append(p)
    base = f"mllp-{number:012d}"
    if len(groups) == 1:
        return [(f"{base}.hl7", b"".join(next(iter(groups.values()))))]
    return [(f"{base}-{k + 1}.hl7", b"".join(g)) for k, g in enumerate(groups.values())]


def land_segments(project: ProjectConfig, tenant: str, source: str, wal_dir: str, numbers: list[int]) -> LandResult:
    """Land these closed segments, then forget them (see the module docstring for the order)."""
    from medlake.lake.landing import LandingStore
    from medlake.pipeline import open_lake

    folder = Path(wal_dir)
    lake = open_lake(project, tenant)
    store = LandingStore(lake)
    out = LandResult()
    done: list[tuple[int, list[bytes]]] = []
    new_dirs: set[Path] = set()
    for n in numbers:
        if not (folder / segment_name(n)).exists():
            continue  # landed and deleted already
        scan = read_segment(folder, n)
        for name, data in segment_objects(n, scan.records):
            landed = store.land(source, name, data)
            out.objects += 1
            out.new_objects += landed.new
            if landed.new and "://" not in lake.root:
                new_dirs.update(Path(lake.uri(landed.key)).parents[:5])  # landing/<source>/yyyy/mm/dd
        out.segments += 1
        out.messages += len(scan.records)
        out.skipped_bytes += scan.skipped_bytes
        out.torn += scan.torn_tail
        done.append((n, [r.key for r in scan.records]))
    store.flush()
    for d in sorted(new_dirs, key=lambda p: -len(p.parts)):
        fsync_dir(d)  # the objects' names are on disk before the segments go
    for n, keys in done:
        append_landed(folder, n, keys)
        (folder / segment_name(n)).unlink(missing_ok=True)
    if done:
        fsync_dir(folder)
    return out


def run_pipeline(project: ProjectConfig, tenant: str, source: str) -> dict[str, Any]:
    """land → bronze → silver for the listener's source; returns counts per stage."""
    from medlake import pipeline

    t0 = time.perf_counter()
    summary = pipeline.run(project, tenant, STAGES, [source], workers=1)
    out: dict[str, Any] = {"run_id": summary.run_id, "seconds": time.perf_counter() - t0}
    for st in summary.stages:
        details = st.details.get(source)
        out[st.stage] = dict(details) if isinstance(details, dict) else {}
    return out


def safe_error(e: BaseException) -> str:
    """An error for the listener's log: lake and config errors name paths and ids; others may
    quote data, so only their class is shown."""
    if isinstance(e, LakeError | ConfigError | SourceError | OSError):
        return f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
    return f"{type(e).__name__} (details in the run log: `medlake status`)"


_JOBS: dict[str, Callable[..., Any]] = {"land": land_segments, "run": run_pipeline}


class BatchError(Exception):
    """A micro-batch job failed; `str()` is safe to log."""


class BatchWorker:
    """Runs `land_segments` / `run_pipeline` in one spawned process (or inline, for tests)."""

    def __init__(self, project: ProjectConfig, tenant: str, source: str, wal_dir: str, inline: bool = False) -> None:
        self._args = (project, tenant, source)
        self._wal_dir = wal_dir
        self._inline = inline
        self._proc: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._inline or (self._proc is not None and self._proc.is_alive()):
            return
        ctx = multiprocessing.get_context("spawn")  # delta-rs panics after fork
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, os.getpid()), name="medlake-mllp-batch", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def land(self, numbers: list[int]) -> LandResult:
        result: LandResult = self._call("land", (*self._args, self._wal_dir, numbers))
        return result

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("run", self._args)
        return result

    def _call(self, job: str, args: tuple[Any, ...]) -> Any:
        with self._lock:
            if self._inline:
                try:
                    return _JOBS[job](*args)
                except Exception as e:
                    raise BatchError(safe_error(e)) from None
            self.start()
            try:
                self._conn.send((job, args))
                status, value = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                self.close()
                raise BatchError("the micro-batch worker process died; it is restarted for the next batch") from None
            if status != "ok":
                raise BatchError(value)
            return value

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=30)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None


def _serve(conn: Any, parent: int) -> None:
    """The worker process: run jobs until the listener closes the pipe or disappears."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the listener decides

    def watchdog() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(70)  # orphaned: the listener died; a restarted one redoes the work

    threading.Thread(target=watchdog, daemon=True, name="parent-watchdog").start()
    # loaded now, so the first micro-batch does not wait for imports
    import importlib

    for module in ("deltalake", "medlake.pipeline", "medlake.lake.landing", "medlake.bronze.stage", "medlake.silver.stage"):
        importlib.import_module(module)

    while True:
        try:
            job, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", _JOBS[job](*args)))
        except Exception as e:
            conn.send(("error", safe_error(e)))
