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
SOURCE_TAG = "https://medlake.dev/fhir/source"


@dataclass(frozen=True)
class FhirContext:
    tenant: str
    source: str
    system: str


@dataclass(slots=True)
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
    from medlake.formats.fhir import FhirEntry, ReferenceIndex, source_key

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
        where = f"entry {entry.index} ({rtype})"
        key = source_key(entry)
        if key is None:
            problems.append(PassProblem(rec, where, "resource has no id and no fullUrl; it cannot be given a stable id"))
            continue
        resource, dangling = _rewritten(row["resource"], index, ctx)
        problems.extend(
            PassProblem(rec, where, f"reference `{ref[:80]}` matches no resource in the bundle (dangling)")
            for ref in dangling
        )
        sid = silver_id(ctx.tenant, ctx.system, rtype, key)
        resource["id"] = sid
        meta = dict(resource.get("meta") or {})
        meta["source"] = ctx.system
        tags = [t for t in meta.get("tag", []) if t.get("system") != SOURCE_TAG]
        meta["tag"] = [*tags, {"system": SOURCE_TAG, "code": ctx.source}]
        resource["meta"] = meta
        out.append(PassedResource(rtype, key, sid, resource, rec, _patient_of(rtype, sid, resource)))
    return out, problems


def _rewritten(text: str, index: Any, ctx: FhirContext) -> tuple[dict[str, Any], list[str]]:
    """The resource with every resolvable reference pointing at its silver id, and the rest."""
    from medlake.formats.fhir import rewrite_reference_text

    dangling: list[str] = []

    def rewrite(ref: str) -> str | None:
        target = index.resolve(ref)
        if target is None:
            dangling.append(ref)
            return None
        return f"{target.resource_type}/{silver_id(ctx.tenant, ctx.system, target.resource_type, target.key)}"

    resource: dict[str, Any] = orjson.loads(rewrite_reference_text(text, rewrite))
    return resource, dangling


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
