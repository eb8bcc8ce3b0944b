"""Deterministic silver ids.

A silver resource id is the UUIDv5 of tenant, source system, resource type and the source's
own identifier, so re-ingesting the same record always lands on the same id.
"""

from __future__ import annotations

import uuid

MEDLAKE_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-5b8e-9a57-6d2f0c0de1a1")


def silver_id(tenant: str, system: str, resource_type: str, source_id: str) -> str:
    """The silver id of `resource_type` with source identifier `source_id` from `system`."""
    return str(uuid.uuid5(MEDLAKE_NAMESPACE, f"{tenant}|{system}|{resource_type}|{source_id}"))


def silver_reference(tenant: str, system: str, resource_type: str, source_id: str) -> str:
    """A FHIR relative reference (`Patient/<uuid>`) to the silver id of a source record."""
    return f"{resource_type}/{silver_id(tenant, system, resource_type, source_id)}"
