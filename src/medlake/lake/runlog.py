"""The run log (`_meta/runs`): one row per stage × table of every run.

Rows carry counts and ids only, never data values (no PHI). `status` is one of `STATUSES`:
`ok`, `failed` (the step raised; `message` is the error class), `blocked` (a gold mart a
failed check stopped; `message` names the checks) or `skipped`. `RunLog.finish` adds one row
with stage `run` (`RUN_STAGE`): the run's overall status and wall time, so readers that want
whole runs need not guess them from the steps (readers of steps filter `stage <> 'run'`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

STATUSES: tuple[str, ...] = ("ok", "failed", "blocked", "skipped")
RUN_STAGE = "run"  # the stage of the one row per run that `RunLog.finish` writes

log = logging.getLogger("medlake.run")

RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("tenant", pa.string()),
        ("stage", pa.string()),
        ("source", pa.string()),
        ("table_name", pa.string()),
        ("rows_in", pa.int64()),
        ("rows_out", pa.int64()),
        ("quarantined", pa.int64()),
        ("status", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("duration_s", pa.float64()),
        ("message", pa.string()),
    ]
)


@dataclass
class StepRecord:
    stage: str
    source: str | None = None
    table: str | None = None
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    status: str = "ok"
    message: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class RunLog:
    """Collects step records for one run and writes them to `_meta/runs`."""

    def __init__(self, lake: TenantLake, run_id: str) -> None:
        self.lake = lake
        self.run_id = run_id
        self.steps: list[StepRecord] = []
        self.started_at = datetime.now(UTC)
        self._t0 = time.perf_counter()

    @contextmanager
    def step(self, stage: str, source: str | None = None, table: str | None = None) -> Iterator[StepRecord]:
        rec = StepRecord(stage=stage, source=source, table=table)
        t0 = time.perf_counter()
        try:
            yield rec
        except BaseException as e:
            rec.status = "failed"
            rec.message = type(e).__name__
            raise
        finally:
            rec.duration_s = time.perf_counter() - t0
            self.steps.append(rec)
            self._write([rec])
            self._log(rec)

    def overall_status(self) -> str:
        """`failed` when a step this log wrote failed, else `blocked` when one was blocked, else `ok`.

        Steps written by worker processes (parallel bronze/silver) are not in `self.steps`:
        a failure there raises in the caller, which passes `status="failed"` to `finish`."""
        statuses = {r.status for r in self.steps}
        return "failed" if "failed" in statuses else "blocked" if "blocked" in statuses else "ok"

    def finish(self, status: str | None = None, message: str | None = None) -> StepRecord:
        """Write the run's own row (stage `run`): overall status, wall time, `rows_in` = steps
        logged here, `rows_out` = those ok, `quarantined` = their total.

        `status` defaults to `overall_status()`; `message` carries ids and counts only (e.g. the
        error class of a failed run). Call it once, at the end of the run, also when it failed."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"run status `{status}` is not one of {', '.join(STATUSES)}")
        rec = StepRecord(
            stage=RUN_STAGE,
            rows_in=len(self.steps),
            rows_out=sum(1 for r in self.steps if r.status == "ok"),
            quarantined=sum(r.quarantined for r in self.steps),
            status=status or self.overall_status(),
            message=message,
            started_at=self.started_at,
            duration_s=time.perf_counter() - self._t0,
        )
        self._write([rec])
        self._log(rec)
        return rec

    def _log(self, r: StepRecord) -> None:
        """One log line per row (INFO: shown with `--log-format json`), counts and ids only."""
        where = " ".join(x for x in (r.source, r.table) if x)
        log.info(
            "%s %s%s: %d in, %d out, %d quarantined, %.2f s", r.stage, r.status, f" {where}" if where else "",
            r.rows_in, r.rows_out, r.quarantined, r.duration_s,
            extra={"run_id": self.run_id, "tenant": self.lake.tenant, "stage": r.stage, "source": r.source,
                   "table": r.table, "status": r.status, "rows_in": r.rows_in, "rows_out": r.rows_out,
                   "quarantined": r.quarantined, "duration_s": round(r.duration_s, 3), "detail": r.message},
        )

    def _write(self, recs: list[StepRecord]) -> None:
        rows = [
            {
                "run_id": self.run_id,
                "tenant": self.lake.tenant,
                "stage": r.stage,
                "source": r.source,
                "table_name": r.table,
                "rows_in": r.rows_in,
                "rows_out": r.rows_out,
                "quarantined": r.quarantined,
                "status": r.status,
                "started_at": r.started_at,
                "duration_s": r.duration_s,
                "message": r.message,
            }
            for r in recs
        ]
        delta.append(self.lake.meta("runs"), pa.Table.from_pylist(rows, schema=RUN_SCHEMA), self.lake.delta_options())
