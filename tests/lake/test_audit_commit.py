"""Group commit: while one thread writes, the others queue and are written together by the
next leader; every thread gets its own result, or the writer's error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from medlake.lake.audit_commit import GroupCommit, last_line


def _wait_for(pred: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if pred():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def test_waiting_items_are_written_in_one_call() -> None:
    group: GroupCommit[str, str] = GroupCommit()
    gate = threading.Event()
    calls: list[list[str]] = []

    def write(items: list[str]) -> list[str]:
        calls.append(list(items))
        if len(calls) == 1:
            gate.wait(10)  # the first leader holds the writer while the others queue
        return [i.upper() for i in items]

    results: dict[str, str] = {}

    def run(item: str) -> None:
        results[item] = group.submit(item, write)

    first = threading.Thread(target=run, args=("a",))
    first.start()
    _wait_for(lambda: len(calls) == 1, "the first write")
    others = [threading.Thread(target=run, args=(x,)) for x in "bcd"]
    for t in others:
        t.start()
    _wait_for(lambda: len(group._pending) == 3, "three waiting items")
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert calls[0] == ["a"] and sorted(calls[1]) == ["b", "c", "d"] and len(calls) == 2
    assert results == {"a": "A", "b": "B", "c": "C", "d": "D"}


def test_the_writers_error_reaches_every_waiter() -> None:
    group: GroupCommit[int, int] = GroupCommit()

    def write(items: list[int]) -> list[int]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        group.submit(1, write)
    assert group.submit(2, lambda items: [i * 10 for i in items]) == 20  # not stuck after an error


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", b""), (b"one\n", b"one"), (b"one\ntwo\n", b"two"), (b"one\ntwo", b"two"), (b"a\n" + b"x" * 20000 + b"\n\n", b"x" * 20000)],
)
def test_last_line(tmp_path: Path, data: bytes, expected: bytes) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    assert last_line(path) == expected
