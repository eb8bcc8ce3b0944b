"""How audit appends are serialised and batched (used by `medlake.lake.audit`).

`folder_lock(folder)` is held while the tail is read and new lines are written: a
`threading.Lock` shared by every thread of the process, then an exclusive `flock(2)` on
`<folder>/.lock` for other processes. `GroupCommit` lets many threads append at once
without paying the disk once each: the first thread to arrive writes every entry waiting
at that moment in one call (one fsync), the others wait for their own result.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_GUARD = threading.Lock()
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GROUPS: dict[str, GroupCommit[Any, Any]] = {}


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive for this folder across threads and processes (local file systems)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / ".lock")
    with _GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(path, threading.Lock())
    with thread_lock:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock


class _Slot(Generic[T, R]):
    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Threads hand in items; one of them (the leader) writes every waiting item in one call."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[_Slot[T, R]] = []
        self._busy = False

    def submit(self, item: T, write: Callable[[list[T]], list[R]]) -> R:
        """Wait until `item` is written (by this thread or another) and return its result."""
        slot: _Slot[T, R] = _Slot(item)
        batch: list[_Slot[T, R]] = []
        with self._cond:
            self._pending.append(slot)
            while self._busy and not slot.done:
                self._cond.wait()
            if not slot.done:  # nobody is writing and ours is waiting: lead
                self._busy = True
                batch, self._pending = self._pending, []
        if batch:
            self._lead(batch, write)
        if slot.error is not None:
            raise slot.error
        assert slot.result is not None
        return slot.result

    def _lead(self, batch: list[_Slot[T, R]], write: Callable[[list[T]], list[R]]) -> None:
        try:
            results = write([s.item for s in batch])
            for s, r in zip(batch, results, strict=True):
                s.result = r
        except BaseException as e:  # every waiter gets the writer's error
            for s in batch:
                s.error = e
        finally:
            with self._cond:
                for s in batch:
                    s.done = True
                self._busy = False
                self._cond.notify_all()


def group_for(folder: Path) -> GroupCommit[Any, Any]:
    """The process-wide `GroupCommit` of one audit folder."""
    with _GUARD:
        return _GROUPS.setdefault(str(folder), GroupCommit())


def last_line(path: Path) -> bytes:
    """The last non-empty line of a file, read from its end."""
    with open(path, "rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        chunk = b""
        while pos > 0:
            step = min(8192, pos)
            pos -= step
            fh.seek(pos)
            chunk = fh.read(step) + chunk
            lines = chunk.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or pos == 0:
                return lines[-1].strip()
    return b""
