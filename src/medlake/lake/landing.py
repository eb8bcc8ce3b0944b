"""The landing store: raw bytes exactly as received, named by their SHA-256, never overwritten."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from medlake.lake import manifest
from medlake.lake.paths import TenantLake


@dataclass(frozen=True)
class Landed:
    source: str
    sha256: str
    key: str
    original_name: str
    size: int
    received_at: datetime
    new: bool  # False: these bytes were already in landing (a recorded no-op)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LandingStore:
    """Lands objects for one tenant and records each arrival in the manifest.

    Events are buffered and written in one commit by `flush()`; if the process dies before
    that, the objects are already in landing and the next run records them (landing is
    idempotent on content).
    """

    def __init__(self, lake: TenantLake) -> None:
        self.lake = lake
        self._known = manifest.objects(lake)
        self._names = manifest.names(lake)
        self._events: list[manifest.Event] = []

    def seen(self, source: str, original_name: str, sha: str) -> bool:
        """These bytes already arrived under this name (a re-scan of an unchanged file)."""
        return (source, original_name, sha) in self._names

    def is_known(self, source: str, sha: str) -> bool:
        return f"{source}/{sha}" in self._known

    def land(self, source: str, original_name: str, data: bytes, received_at: datetime | None = None) -> Landed:
        sha = sha256_hex(data)
        received = received_at or datetime.now(UTC)
        info = self._known.get(f"{source}/{sha}")
        if info is not None:
            ev = manifest.Event(source, sha, info.key, original_name, len(data), received, "duplicate",
                                f"same bytes as `{info.original_name}` landed {info.received_at:%Y-%m-%d %H:%M:%S}Z")
            self._events.append(ev)
            self._names.add((source, original_name, sha))
            return Landed(source, sha, info.key, original_name, len(data), info.received_at, new=False)
        key = self.lake.landing_key(source, sha, received)
        if not self.lake.storage.exists(key):
            self.lake.storage.write_bytes(key, data)
        ev = manifest.Event(source, sha, key, original_name, len(data), received, "landed")
        self._events.append(ev)
        self._names.add((source, original_name, sha))
        self._known[f"{source}/{sha}"] = manifest.ObjectInfo(
            source, sha, key, original_name, len(data), received, "landed", None
        )
        return Landed(source, sha, key, original_name, len(data), received, new=True)

    def flush(self) -> int:
        n = manifest.record(self.lake, self._events)
        self._events = []
        return n
