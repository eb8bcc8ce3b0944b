"""One run at a time per tenant: an exclusive lock file in `_meta/`.

Two overlapping runs (a cron job catching up with a long run, two `build` commands) would
both see the same objects as not yet consumed. The lock makes the second one stop with a
clear error. A lock left by a process that no longer exists (killed) is taken over.
Object-store lakes are not locked yet: run one pipeline per tenant there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from medlake.errors import LakeError
from medlake.lake.paths import TenantLake


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def tenant_lock(lake: TenantLake, run_id: str) -> Iterator[None]:
    if "://" in lake.root:
        yield
        return
    path = Path(lake.uri("_meta")) / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"{os.getpid()} {run_id} {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n".encode()
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = path.read_text(encoding="utf-8", errors="replace").split()
            pid = int(held[0]) if held and held[0].isdigit() else -1
            if pid > 0 and pid != os.getpid() and _alive(pid):
                raise LakeError(
                    f"tenant `{lake.tenant}` is busy: run {held[1] if len(held) > 1 else '?'} (pid {pid}) "
                    f"started {held[2] if len(held) > 2 else '?'} is still running. Wait for it to finish; "
                    f"if that process is gone, delete {path}.",
                    tenant=lake.tenant,
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        break
    else:
        raise LakeError(f"could not take the run lock {path}; another run keeps taking it", tenant=lake.tenant)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
