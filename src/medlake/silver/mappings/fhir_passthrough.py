"""FHIR resources → silver: ids made deterministic, every reference rewritten to a silver id.

Pure: bronze rows of one object in, silver-ready resources and problems out. Reference
resolution follows `medlake.formats.fhir.ReferenceIndex` (urn:uuid, relative, absolute,
conditional and contained references). A reference that cannot be resolved is reported and
left as it was, so nothing is lost and the dangling link is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from medlake.silver.ids import silver_id

PATIENT_REFS = ("subject", "patient", "beneficiary", "individual")


@dataclass(frozen=True)
class FhirContext:
    tenant: str
    source: str
    system: str


@dataclass(frozen=True)
class PassedResource:
    resource_type: str
    source_id: str
    id: str
    resource: dict[str, Any]
    record_index: int
    patient_id: str | None


@dataclass(frozen=True)
class PassProblem:
    record_index: int
    position: str
    message: str


def map_object(rows: Sequence[dict[str, Any]], ctx: FhirContext) -> tuple[list[PassedResource], list[PassProblem]]:
    """Map the bronze rows of one FHIR object (bundle or NDJSON file)."""
    from medlake.formats.fhir import FhirEntry, ReferenceIndex, is_contained, source_key

    entries = [
        FhirEntry(
            index=int(r["entry_index"]),
            resource=orjson.loads(r["resource"]),
            full_url=r.get("full_url"),
            request_method=r.get("request_method"),
            request_url=r.get("request_url"),
            if_none_exist=r.get("if_none_exist"),
        )
        for r in rows
    ]
    index = ReferenceIndex.build(entries)
    out: list[PassedResource] = []
    problems: list[PassProblem] = []
    for row, entry in zip(rows, entries, strict=True):
        rec = int(row["_record_index"])
        rtype = entry.resource.get("resourceType", "")
        key = source_key(entry)
        if key is None:
            problems.append(PassProblem(rec, f"entry {entry.index} ({rtype})", "resource has no id and no fullUrl; it cannot be given a stable id"))
            continue
        dangling: list[str] = []

        def rewrite(ref: str, dangling: list[str] = dangling) -> str | None:
            if is_contained(ref):
                return None
            target = index.resolve(ref)
            if target is None:
                dangling.append(ref)
                return None
            return f"{target.resource_type}/{silver_id(ctx.tenant, ctx.system, target.resource_type, target.key)}"

        from medlake.formats.fhir import rewrite_references

        resource = rewrite_references(entry.resource, rewrite)
        for ref in dangling:
            problems.append(PassProblem(rec, f"entry {entry.index} ({rtype})", f"reference `{ref[:80]}` matches no resource in the bundle (dangling)"))
        sid = silver_id(ctx.tenant, ctx.system, rtype, key)
        resource["id"] = sid
        meta = dict(resource.get("meta") or {})
        meta["source"] = ctx.system
        tags = [t for t in meta.get("tag", []) if t.get("system") != "https://medlake.dev/fhir/source"]
        meta["tag"] = [*tags, {"system": "https://medlake.dev/fhir/source", "code": ctx.source}]
        resource["meta"] = meta
        out.append(PassedResource(rtype, key, sid, resource, rec, _patient_of(rtype, sid, resource)))
    return out, problems


def _patient_of(rtype: str, sid: str, resource: dict[str, Any]) -> str | None:
    if rtype == "Patient":
        return sid
    for name in PATIENT_REFS:
        ref = resource.get(name)
        if isinstance(ref, dict):
            r = ref.get("reference")
            if isinstance(r, str) and r.startswith("Patient/"):
                return r.removeprefix("Patient/")
    return None
