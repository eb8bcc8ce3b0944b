"""The run log (`_meta/runs`): one row per stage × table of every run.

Rows carry counts and ids only, never data values (no PHI).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from medlake.lake import delta
from medlake.lake.paths import TenantLake

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
