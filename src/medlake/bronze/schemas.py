"""Registered schemas of delimited feeds (`_meta/schemas`) and their drift events
(`_meta/schema_events`), with the source's `schema_drift` policy applied at bronze.

The first file of a (source, kind) registers version 1: its columns, in header order, with
types inferred from its values (`medlake.bronze.drift`). Each later file is compared with the
latest version. No change: it lands. A change, under the source's policy:

- `evolve` (default) — a new version is registered and the file lands;
- `additive` — added or reordered columns evolve; removed, renamed or retyped ones quarantine;
- `quarantine` — any change quarantines the whole file.

Columns the kind's mapping spec declares (`columns:`) are required: a file without one is
quarantined whatever the policy (silver could not map it). A quarantined file keeps the
manifest status `quarantined` with a reason that starts `schema drift:`; the bronze stage looks
at such files again on every run, so a file lands once the policy (or a new registered
version) allows it, and a run that still holds it writes nothing new.

When the first file of a kind also matches another kind's `match` globs (the synthetic EHR's
`patients_2.txt` is kind `patients_v2` and matches `patients*.txt`), it is compared with that
kind's latest schema as well: the event records the drift from the older layout; the file
lands, since the spec maps its kind.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import orjson
import pyarrow as pa

from medlake.bronze.drift import Change, Column, compare, evolved, infer_columns, missing_required
from medlake.bronze.records import LINEAGE
from medlake.lake import delta
from medlake.lake.paths import TenantLake

HELD = "schema drift:"
"""How the manifest reason of a file quarantined for schema drift starts."""

TS = pa.timestamp("us", tz="UTC")
SCHEMAS_SCHEMA = pa.schema([
    ("source", pa.string()), ("kind", pa.string()), ("version", pa.int64()),
    ("columns", pa.string()), ("required", pa.string()), ("registered_at", TS),
    ("object_sha256", pa.string()), ("object_name", pa.string()), ("batch_id", pa.string()),
])  # fmt: skip
"""`columns`: JSON `[{"name": …, "type": …}]` in header order; `required`: JSON list of names."""

EVENTS_SCHEMA = pa.schema([
    ("source", pa.string()), ("kind", pa.string()), ("object_sha256", pa.string()),
    ("object_name", pa.string()), ("from_kind", pa.string()), ("from_version", pa.int64()),
    ("to_version", pa.int64()), ("changes", pa.string()), ("action", pa.string()),
    ("policy", pa.string()), ("batch_id", pa.string()), ("recorded_at", TS),
])  # fmt: skip
"""`changes`: JSON list of sentences; `action`: registered, evolved or quarantined;
`to_version` is null when the file was quarantined."""


@dataclass(frozen=True)
class Verdict:
    land: bool
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None
    """For a quarantined file: `<source>/<file>: header: <change>; …; policy <policy>`."""

    @property
    def manifest_reason(self) -> str:
        return f"{HELD} {'; '.join(c.text for c in self.changes)}; see meta.schema_events"


def is_held(reason: str | None) -> bool:
    """Whether a manifest reason is that of a file quarantined for schema drift."""
    return bool(reason and reason.startswith(HELD))


def data_columns(table: pa.Table) -> pa.Table:
    """A bronze table without its lineage columns and `_line`: the file's own columns."""
    return table.drop([c for c in (*LINEAGE, "_line") if c in table.column_names])


class SchemaRegistry:
    """The registered schemas of one delimited source, loaded once per bronze run."""

    def __init__(self, lake: TenantLake, source: str, policy: str, spec: Any, batch_id: str) -> None:
        self.lake, self.source, self.policy, self.spec, self.batch_id = lake, source, policy, spec, batch_id
        self.latest: dict[str, tuple[int, list[Column]]] = {}
        table = delta.read(lake.meta("schemas"), options=lake.delta_options())
        if table is not None:
            for row in sorted(table.to_pylist(), key=lambda r: r["version"]):
                if row["source"] == source:
                    cols = [Column(c["name"], c["type"]) for c in orjson.loads(row["columns"])]
                    self.latest[row["kind"]] = (row["version"], cols)

    def check(self, kind: str, table: pa.Table, name: str, sha: str, held: bool = False) -> Verdict:
        """Compare one parsed file with its kind's schema, register or evolve, record the event.

        `held`: the file was quarantined for drift before (no new event if it still is)."""
        data = data_columns(table)
        required = tuple(getattr(self.spec.kinds[kind], "columns", None) or ())
        missing = missing_required(required, data.column_names)
        current = self.latest.get(kind)
        if current is None and not missing:
            self._register(kind, 1, infer_columns(data), required, name, sha)
            self._first_event(kind, data, name, sha)
            return Verdict(True)
        changes = missing + (compare(current[1], data) if current else [])
        if not changes:
            return Verdict(True)
        version = current[0] if current else None
        if not missing and self._evolves(changes):
            cols = evolved(current[1], data, infer_columns(data)) if current else infer_columns(data)
            self._register(kind, (version or 0) + 1, cols, required, name, sha)
            self._event(kind, name, sha, kind, version, (version or 0) + 1, changes, "evolved")
            return Verdict(True, changes)
        reason = f"{self.source}/{name}: header: {'; '.join(c.text for c in changes)}; policy {self.policy}"
        if not held:
            self._event(kind, name, sha, kind, version, None, changes, "quarantined")
        return Verdict(False, changes, reason)

    def _evolves(self, changes: list[Change]) -> bool:
        if self.policy == "evolve":
            return True
        if self.policy == "additive":
            return all(c.kind in ("added", "reordered") for c in changes)
        return False

    def _first_event(self, kind: str, data: pa.Table, name: str, sha: str) -> None:
        """Registration of a kind's first file, compared with an older kind it also matches."""
        base = PurePath(name.replace("\\", "/")).name.lower()
        for other, spec_kind in self.spec.kinds.items():
            if other == kind or other not in self.latest:
                continue
            if any(fnmatch.fnmatchcase(base, g.lower()) for g in spec_kind.match):
                version, cols = self.latest[other]
                self._event(kind, name, sha, other, version, 1, compare(cols, data), "registered")
                return
        self._event(kind, name, sha, None, None, 1, [], "registered")

    def _register(
        self, kind: str, version: int, cols: list[Column], required: tuple[str, ...], name: str, sha: str
    ) -> None:
        row = {
            "source": self.source, "kind": kind, "version": version,
            "columns": orjson.dumps([{"name": c.name, "type": c.type} for c in cols]).decode(),
            "required": orjson.dumps(list(required)).decode(), "registered_at": datetime.now(UTC),
            "object_sha256": sha, "object_name": name, "batch_id": self.batch_id,
        }  # fmt: skip
        delta.append(self.lake.meta("schemas"), pa.Table.from_pylist([row], schema=SCHEMAS_SCHEMA), self.lake.delta_options())
        self.latest[kind] = (version, cols)

    def _event(
        self, kind: str, name: str, sha: str, from_kind: str | None, from_version: int | None,
        to_version: int | None, changes: list[Change], action: str,
    ) -> None:  # fmt: skip
        row = {
            "source": self.source, "kind": kind, "object_sha256": sha, "object_name": name,
            "from_kind": from_kind, "from_version": from_version, "to_version": to_version,
            "changes": orjson.dumps([c.text for c in changes]).decode(), "action": action,
            "policy": self.policy, "batch_id": self.batch_id, "recorded_at": datetime.now(UTC),
        }  # fmt: skip
        delta.append(self.lake.meta("schema_events"), pa.Table.from_pylist([row], schema=EVENTS_SCHEMA), self.lake.delta_options())
