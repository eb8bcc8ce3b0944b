"""`medlake listen` killed with SIGKILL mid-stream, restarted, stopped: every acknowledged message
ends up in landing — and in bronze — exactly once."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from mllp_client import Ack, Client, adt

from medlake.formats.hl7v2 import parse_hl7
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.sources.mllp_wal import MAGIC, segment_name, segments

CONFIG = """\
lake: ./lake
tenants:
  - name: t1
    sources:
      - {name: adt, kind: hl7v2, location: ./inbox}
"""
TOTAL = 400


class Proc:
    """`medlake listen` in a subprocess; its output lines are collected as they come."""

    def __init__(self, root: Path) -> None:
        cmd = [sys.executable, "-m", "medlake.cli.main", "listen", "-c", str(root / "medlake.yaml"),
               "--tenant", "t1", "--source", "adt", "--port", "0", "--batch-seconds", "0.5"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._q: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        line = self.wait_for("listening on ")
        self.port = int(line.rsplit(":", 1)[1].split()[0])

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))
            self._q.put(line)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        while True:
            try:
                line = self._q.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no `{text}` from the listener; output so far: {self.lines}") from None
            if text in line:
                return line

    def stop(self) -> int:
        self.p.send_signal(signal.SIGTERM)
        return self.p.wait(timeout=90)


def collect(c: Client, n: int | None) -> list[Ack]:
    """Read `n` replies (or, with None, until the connection dies)."""
    acks: list[Ack] = []
    try:
        while n is None or len(acks) < n:
            acks += c.read_acks(1)
    except (ConnectionError, OSError):
        pass
    return acks


def landed_control_ids(root: Path) -> Counter[str]:
    ids: Counter[str] = Counter()
    for p in (root / "lake" / "t1" / "landing" / "adt").rglob("*"):
        if p.is_file():
            ids.update(m.control_id or "" for m in parse_hl7(p.read_bytes()).messages)
    return ids


def test_sigkill_restart_every_acked_message_lands_once(tmp_path: Path) -> None:
    (tmp_path / "medlake.yaml").write_text(CONFIG, encoding="utf-8")
    wal = tmp_path / "lake" / "t1" / "_meta" / "mllp" / "adt"
    acked: list[str] = []

    first = Proc(tmp_path)
    c = Client("127.0.0.1", first.port)
    c.send_messages([adt(i) for i in range(100)])
    acked += [a.control_id for a in collect(c, 100) if a.code == "AA"]
    first.wait_for("pipeline ")  # a micro-batch has landed and gone through the pipeline
    # stream with up to 20 messages in flight; SIGKILL once 60 more replies came back
    sent, replied = 100, 0
    while replied < 60:
        if sent - 100 - replied < 20:
            c.send_messages([adt(i) for i in range(sent, sent + 5)])
            sent += 5
            continue
        acked += [a.control_id for a in collect(c, 1) if a.code == "AA"]
        replied += 1
    first.p.kill()
    first.p.wait(timeout=30)
    acked += [a.control_id for a in collect(c, None) if a.code == "AA"]
    c.close()
    assert 160 <= len(acked) < sent
    # the kill may or may not have cut a write short: make sure a torn tail is there to recover from
    last = max(segments(wal))
    with open(wal / segment_name(last), "ab") as fh:
        fh.write(MAGIC + b"\x10\x00\x00")

    second = Proc(tmp_path)
    resend = [i for i in range(TOTAL) if f"C{i}" not in set(acked)] + [int(x[1:]) for x in acked[-10:]]
    c = Client("127.0.0.1", second.port)
    c.send_messages([adt(i) for i in resend])
    replies = collect(c, len(resend))
    c.close()
    assert [(a.code, a.control_id) for a in replies] == [("AA", f"C{i}") for i in resend]
    assert second.stop() == 0, second.lines

    expected = {f"C{i}" for i in range(TOTAL)}
    landed = landed_control_ids(tmp_path)
    assert set(landed) == expected
    assert {k: n for k, n in landed.items() if n != 1} == {}
    assert segments(wal) == []  # everything landed, nothing left behind
    recovered = [line for line in second.lines if "recovered" in line and "write-ahead log" in line]
    assert len(recovered) == 1 and re.search(r"message\(s\), [1-9]\d* torn tail\(s\)", recovered[0]), second.lines

    if Path(__file__).resolve().parents[2].joinpath("src/medlake/bronze/hl7v2.py").exists():
        lake = TenantLake.open(str(tmp_path / "lake"), "t1")
        table = delta.read(lake.bronze("adt", "messages"), columns=["control_id"])
        assert table is not None
        in_bronze = Counter(table.column("control_id").to_pylist())
        assert set(in_bronze) == expected
        assert {k: n for k, n in in_bronze.items() if n != 1} == {}
