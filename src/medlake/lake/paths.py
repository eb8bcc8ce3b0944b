"""The layout of one tenant's part of the lake (see ARCHITECTURE.md, "The lake on disk")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from medlake.errors import LakeError
from medlake.lake.storage import Storage, open_storage

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")


def _safe(name: str) -> str:
    """A path segment from data (a resource type, a kind): never `..`, `/` or the like."""
    if not _NAME.match(name):
        raise LakeError(f"`{name[:80]}` cannot name a lake table; use letters, digits and `_`", name=name[:80])
    return name


@dataclass(frozen=True)
class TenantLake:
    """Keys (relative to the tenant root) and URIs of everything one tenant owns."""

    tenant: str
    storage: Storage

    @classmethod
    def open(cls, lake_root: str, tenant: str, options: dict[str, str] | None = None) -> TenantLake:
        root = f"{lake_root.rstrip('/')}/{tenant}"
        return cls(tenant, open_storage(root, options))

    @property
    def root(self) -> str:
        return self.storage.root

    def uri(self, key: str) -> str:
        return self.storage.uri(key)

    def landing_key(self, source: str, sha256: str, received: datetime) -> str:
        return f"landing/{source}/{received:%Y/%m/%d}/{sha256}"

    def bronze(self, source: str, kind: str) -> str:
        return self.uri(f"bronze/{_safe(source)}__{_safe(kind)}")

    def silver(self, resource_type: str) -> str:
        return self.uri(f"silver/fhir/{_safe(resource_type)}")

    def history(self, resource_type: str) -> str:
        return self.uri(f"silver/history/{_safe(resource_type)}")

    def identity(self, name: str) -> str:
        """A master patient index table (`silver/identity/<name>`: crosswalk, events, …)."""
        return self.uri(f"silver/identity/{_safe(name)}")

    def view(self, name: str) -> str:
        return self.uri(f"silver/views/{name}")

    def meta(self, name: str) -> str:
        return self.uri(f"_meta/{name}")

    @property
    def gold_db(self) -> str:
        return self.uri("gold/gold.duckdb")

    def delta_options(self) -> dict[str, str]:
        return self.storage.delta_options()
