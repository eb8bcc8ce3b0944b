"""Lineage columns every bronze row carries, and the helper that adds them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

LINEAGE = ("_tenant", "_source", "_object_sha256", "_object_name", "_record_index", "_landed_at", "_batch_id")
_BAD = re.compile(r"[ ,;{}()\n\t=]")


@dataclass(frozen=True)
class ObjectRef:
    """The landed object a batch of bronze rows came from."""

    tenant: str
    source: str
    sha256: str
    name: str
    landed_at: datetime
    batch_id: str


def delta_column(name: str) -> str:
    """A column name Delta accepts: characters Delta forbids become `_` (the header is also kept)."""
    return _BAD.sub("_", name) if _BAD.search(name) else name


def with_lineage(table: pa.Table, obj: ObjectRef, record_index: pa.Array | None = None) -> pa.Table:
    n = table.num_rows
    idx = record_index if record_index is not None else pa.array(range(n), pa.int64())
    cols = {
        "_tenant": pa.array([obj.tenant] * n, pa.string()),
        "_source": pa.array([obj.source] * n, pa.string()),
        "_object_sha256": pa.array([obj.sha256] * n, pa.string()),
        "_object_name": pa.array([obj.name] * n, pa.string()),
        "_record_index": idx,
        "_landed_at": pa.array([obj.landed_at] * n, pa.timestamp("us", tz="UTC")),
        "_batch_id": pa.array([obj.batch_id] * n, pa.string()),
    }
    for name, arr in cols.items():
        table = table.append_column(name, arr)
    return table
