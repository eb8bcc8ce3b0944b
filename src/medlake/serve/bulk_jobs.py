"""Bulk export jobs: their state on disk, the worker that writes their NDJSON files, and expiry.

A job lives in the tenant lake at `_meta/exports/<job id>/`:

    job.json                 the job's state (`ExportJob`), rewritten at every change
    <Type>.<n>.ndjson        the output: one resource per line, at most `max_resources_per_file`

so a status poll or a download still works after the server restarts. A job the server was
running (or had queued) when it stopped is marked failed at the next start: kick it off again.

One worker thread per server process runs its jobs one at a time, in the order they were
started. Jobs that finished (completed or failed) more than `ttl_seconds` ago are removed with
their files: the lake is scanned at most once a minute while the export API is used, and an
expired job that is asked for goes at once. Nothing here logs PHI: job ids, types and counts.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from medlake.lake.paths import TenantLake
from medlake.lake.storage import LocalStorage
from medlake.serve.query import Where, within
from medlake.serve.store import ResourceStore
from medlake.silver.history import iso
from medlake.silver.schema import table_name

log = logging.getLogger("medlake.serve.bulk")

EXPORTS = "_meta/exports"
SWEEP_EVERY_S = 60.0  # how often the lake is scanned for expired jobs (an expired job asked for goes at once)
Level = Literal["system", "patient", "group"]
Status = Literal["accepted", "running", "completed", "failed"]


@dataclass(frozen=True)
class BulkSettings:
    """How bulk export behaves (set `app.state.bulk.settings` to change it)."""

    max_resources_per_file: int = 20_000
    """An NDJSON file holds at most this many resources; a type with more gets more files."""
    ttl_seconds: float = 24 * 3600
    """A finished job and its files are removed this long after it finished."""
    max_active_jobs: int = 8
    """Kick-offs beyond this many queued or running jobs are refused (429)."""


@dataclass
class ExportJob:
    """One export: what was asked, by whom (a hash), and how far it got."""

    id: str
    owner: str  # sha256 of the principal's identity (see bulk.owner_of)
    level: Level
    request: str  # the kick-off URL
    transaction_time: str
    types: list[str]
    since: str | None = None
    group: str | None = None
    members: list[str] | None = None  # the Group's patient ids (group level)
    bounds: dict[str, str] = field(default_factory=dict)  # type → the one patient a patient-context token sees
    status: Status = "accepted"
    created: float = 0.0
    finished: float | None = None
    progress: str = "queued"
    output: list[dict[str, Any]] = field(default_factory=list)  # {type, file, count}
    error: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> ExportJob:
        return cls(**orjson.loads(data))


class JobFiles:
    """A job's folder in the lake: its state file and its NDJSON files."""

    def __init__(self, lake: TenantLake) -> None:
        self.lake = lake

    def key(self, job_id: str, name: str = "") -> str:
        return f"{EXPORTS}/{job_id}/{name}".rstrip("/")

    def save(self, job: ExportJob) -> None:
        self.lake.storage.write_bytes(self.key(job.id, "job.json"), job.to_json())

    def load_all(self) -> list[ExportJob]:
        jobs = []
        for key in self.lake.storage.list(EXPORTS):
            if key.endswith("/job.json") and key.count("/") == 3:
                jobs.append(ExportJob.from_json(self.lake.storage.read_bytes(key)))
        return jobs

    def exists(self, job_id: str) -> bool:
        return self.lake.storage.exists(self.key(job_id, "job.json"))

    def load(self, job_id: str) -> ExportJob | None:
        """The job as last saved, or None when there is no such job (any more)."""
        if not self.exists(job_id):
            return None
        try:
            return ExportJob.from_json(self.lake.storage.read_bytes(self.key(job_id, "job.json")))
        except FileNotFoundError:  # removed in between
            return None

    def write(self, job_id: str, name: str, data: bytes) -> None:
        self.lake.storage.write_bytes(self.key(job_id, name), data)

    def local_path(self, job_id: str, name: str) -> Path | None:
        """The file on disk for a local lake (None for object storage)."""
        storage = self.lake.storage
        return Path(storage.uri(self.key(job_id, name))) if isinstance(storage, LocalStorage) else None

    def read(self, job_id: str, name: str) -> bytes:
        return self.lake.storage.read_bytes(self.key(job_id, name))

    def remove(self, job_id: str) -> None:
        storage = self.lake.storage
        if isinstance(storage, LocalStorage):
            shutil.rmtree(storage.uri(self.key(job_id)), ignore_errors=True)
            return
        # object storage: `Storage` has no delete yet, so go to the S3 client directly
        client = storage._client()  # type: ignore[attr-defined]
        for key in list(storage.list(self.key(job_id))):
            bucket, full = storage._split(key)  # type: ignore[attr-defined]
            client.delete_object(Bucket=bucket, Key=full)


class ExportJobs:
    """The jobs of one server process: the queue, the worker thread, and the jobs it started.

    The lake is the registry: a job another process started (`medlake serve --workers N`), or
    one from before a restart, is read from its `job.json` whenever it is asked for, and a job
    whose `job.json` disappeared (cancelled by another process) stops after its current file.
    """

    def __init__(self, store: ResourceStore, lake: TenantLake, settings: BulkSettings | None = None) -> None:
        self.store = store
        self.files = JobFiles(lake)
        self.settings = settings or BulkSettings()
        self._lock = threading.RLock()
        self._jobs: dict[str, ExportJob] = {}
        self._cancelled: set[str] = set()
        self._queue: queue.Queue[str] = queue.Queue()
        self._running = threading.Event()  # cleared by `pause`
        self._running.set()
        self._worker: threading.Thread | None = None
        self._swept = 0.0
        for job in self.files.load_all():
            if job.status in ("accepted", "running"):
                job.status, job.finished = "failed", time.time()
                job.error = "the server stopped while this export was queued or running; start a new export"
                self.files.save(job)
        self.sweep()

    # ----------------------------------------------------------------- the registry

    def get(self, job_id: str) -> ExportJob | None:
        """The job (this process's, or as saved in the lake), or None when there is none or it expired."""
        self._sweep_now_and_then()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and not self.files.exists(job_id):  # cancelled by another process
                del self._jobs[job_id]
                return None
        job = job if job is not None else self.files.load(job_id)
        if job is not None and self._expired(job, time.time()):
            with self._lock:
                self._jobs.pop(job_id, None)
                self.files.remove(job_id)
            return None
        return job

    def active(self) -> int:
        """Jobs this process has queued or running."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status in ("accepted", "running"))

    def submit(self, job: ExportJob) -> None:
        with self._lock:
            self._jobs[job.id] = job
            self.files.save(job)
            self._queue.put(job.id)
            if self._worker is None:  # the worker lives while there is work: none lingers at exit
                self._worker = threading.Thread(target=self._work, name="medlake-bulk-export", daemon=True)
                self._worker.start()
        log.info("export %s accepted: level %s, %d types", job.id, job.level, len(job.types))
        self._sweep_now_and_then()

    def cancel(self, job_id: str) -> None:
        """Forget the job and remove its files; a running job stops after its current file."""
        with self._lock:
            self._jobs.pop(job_id, None)
            self._cancelled.add(job_id)
            self.files.remove(job_id)
        log.info("export %s cancelled or released", job_id)

    def _expired(self, job: ExportJob, now: float) -> bool:
        return job.finished is not None and now - job.finished >= self.settings.ttl_seconds

    def _sweep_now_and_then(self) -> None:
        if time.monotonic() - self._swept >= SWEEP_EVERY_S:
            self.sweep()

    def sweep(self, now: float | None = None) -> int:
        """Remove finished jobs older than the TTL, with their files; how many were removed."""
        now = time.time() if now is None else now
        self._swept = time.monotonic()
        with self._lock:
            jobs = {j.id: j for j in self.files.load_all()} | self._jobs
            old = [j.id for j in jobs.values() if self._expired(j, now)]
            for job_id in old:
                self._jobs.pop(job_id, None)
                self.files.remove(job_id)
        for job_id in old:
            log.info("export %s expired and was removed", job_id)
        return len(old)

    def pause(self) -> None:
        """Start no further job until `resume` (the running one finishes): for maintenance and tests."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every submitted job has finished (or was cancelled); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------- the worker

    def _work(self) -> None:
        while True:
            with self._lock:  # `submit` puts and starts under this lock too, so no job is left behind
                if self._queue.empty():
                    self._worker = None
                    return
                job_id = self._queue.get_nowait()
            try:
                self._running.wait()
                with self._lock:
                    job = self._jobs.get(job_id)
                if job is not None and job_id not in self._cancelled:
                    self._run(job)
            finally:
                self._queue.task_done()

    def _gone(self, job_id: str) -> bool:
        """Cancelled here, or by another process (its `job.json` was removed)."""
        return job_id in self._cancelled or not self.files.exists(job_id)

    def _save(self, job: ExportJob) -> bool:
        """Persist `job` unless it was cancelled meanwhile; False when it was."""
        with self._lock:
            if self._gone(job.id):
                return False
            self.files.save(job)
            return True

    def _run(self, job: ExportJob) -> None:
        started = time.monotonic()
        job.status = "running"
        try:
            for n, rtype in enumerate(job.types, 1):
                job.progress = f"exporting {rtype} (type {n} of {len(job.types)}), {sum(o['count'] for o in job.output):,} resources written"
                if not self._save(job) or not self._export_type(job, rtype):
                    break
        except Exception as exc:
            job.status, job.error = "failed", f"the export failed ({type(exc).__name__}); the error is in the server log"
            log.error("export %s failed: %s", job.id, type(exc).__name__)
        else:
            job.status = "completed"
        job.finished, job.progress = time.time(), job.status
        if not self._save(job):
            with self._lock:  # cancelled while running: drop what it wrote after the cancel
                self._jobs.pop(job.id, None)
                self.files.remove(job.id)
            return
        total = sum(o["count"] for o in job.output)
        log.info("export %s %s: %d resources in %d files, %.1f s", job.id, job.status, total, len(job.output), time.monotonic() - started)

    def _export_type(self, job: ExportJob, rtype: str) -> bool:
        """Write one type's files; False when the job was cancelled meanwhile."""
        if rtype not in self.store.types:
            return True
        where = scope(job, rtype)
        sql = f"SELECT resource, last_updated FROM silver.{table_name(rtype)} WHERE {where.sql()} ORDER BY id"
        per_file = max(1, self.settings.max_resources_per_file)
        with self.store.cursor() as cur:
            cur.execute(sql, where.values)
            part = 0
            while rows := cur.fetchmany(per_file):
                if self._gone(job.id):
                    return False
                part += 1
                name = f"{rtype}.{part}.ndjson"
                self.files.write(job.id, name, ndjson(rows))
                job.output.append({"type": rtype, "file": name, "count": len(rows)})
        return not self._gone(job.id)


def scope(job: ExportJob, rtype: str) -> Where:
    """The rows of `rtype` a job exports: its level, `_since`, and a patient-context bound."""
    where = Where()
    if job.level == "patient" and rtype != "Patient":
        where.clauses.append("patient_id IS NOT NULL")
    elif job.level == "group":
        where.clauses.append(f"list_contains(?, {'id' if rtype == 'Patient' else 'patient_id'})")
        where.values.append(job.members or [])
    if job.since is not None:
        where.clauses.append("last_updated > ?")
        where.values.append(datetime.fromisoformat(job.since))
    return within(where, job.bounds.get(rtype))


def ndjson(rows: list[tuple[str, datetime | None]]) -> bytes:
    """NDJSON lines of (resource JSON, last_updated) rows, `meta.lastUpdated` set as the API does."""
    out = []
    loads, dumps = orjson.loads, orjson.dumps
    for text, updated in rows:
        res = loads(text)
        if updated is not None:
            res["meta"] = {**res.get("meta", {}), "lastUpdated": iso(updated.astimezone(UTC))}
        out.append(dumps(res))
    out.append(b"")
    return b"\n".join(out)
