"""Micro-batch landing: a closed WAL segment becomes landing objects; doing it twice changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from mllp_client import adt

from medlake.config import parse_config
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.sources.mllp_batch import BatchWorker
from medlake.sources.mllp_wal import (
    IDX_NAME,
    Record,
    SegmentWriter,
    message_key,
    read_landed,
    segment_name,
    segments,
)

CONFIG = """\
lake: ./lake
tenants:
  - name: t1
    sources:
      - {name: adt, kind: hl7v2, location: ./inbox}
"""


def test_landing_a_segment_again_after_a_crash_is_a_no_op(tmp_path: Path) -> None:
    (tmp_path / "medlake.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    project = parse_config(CONFIG, path=str(tmp_path / "medlake.yaml"))
    wal = tmp_path / "wal"
    wal.mkdir()
    w = SegmentWriter(wal, 5)
    w.append([Record(message_key("REG", "GENHOSP", f"C{i}", adt(i)), 0, adt(i)) for i in range(3)])
    w.close()
    kept = tmp_path / "segment-copy"
    shutil.copy(wal / segment_name(5), kept)
    worker = BatchWorker(project, "t1", "adt", str(wal), inline=True)

    first = worker.land([5])
    assert (first.segments, first.messages, first.objects, first.new_objects) == (1, 3, 1, 1)
    assert segments(wal) == []
    assert read_landed(wal, 3600).last_segment == 5
    assert len(read_landed(wal, 3600).keys) == 3

    shutil.copy(kept, wal / segment_name(5))  # as if the listener died before deleting it
    again = worker.land([5])
    assert (again.messages, again.objects, again.new_objects) == (3, 1, 0)
    assert segments(wal) == []
    assert (wal / IDX_NAME).exists()
    objects = [p for p in (tmp_path / "lake" / "t1" / "landing" / "adt").rglob("*") if p.is_file()]
    assert len(objects) == 1

    out = worker.run()
    assert out["bronze"]["rows"] == 3
    table = delta.read(TenantLake.open(str(tmp_path / "lake"), "t1").bronze("adt", "messages"), columns=["control_id"])
    assert table is not None and sorted(table.column("control_id").to_pylist()) == ["C0", "C1", "C2"]
    assert worker.run()["bronze"].get("rows", 0) == 0
