"""FHIR resources → silver: ids made deterministic, every reference rewritten to a silver id.

Pure: bronze rows of one object in, silver-ready resources and problems out. Reference
resolution follows `medlake.formats.fhir.ReferenceIndex` (urn:uuid, relative, absolute,
conditional and contained references). A reference that cannot be resolved is reported and
left as it was, so nothing is lost and the dangling link is visible.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id, silver_reference

PATIENT_REFS = ("subject", "patient", "beneficiary", "individual")


@dataclass(frozen=True)
class FhirContext:
    tenant: str
    source: str
    system: str
    keep_ids: bool = False  # source `ids: keep`: resource ids and references stay as they are


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


@dataclass(frozen=True)
class BronzeColumns:
    """The bronze rows of one FHIR object, column by column (as lists, in record order)."""

    resource_type: Sequence[str | None]
    resource_id: Sequence[str | None]
    full_url: Sequence[str | None]
    if_none_exist: Sequence[str | None]
    entry_index: Sequence[int]
    resource: Sequence[str]
    record_index: Sequence[int]


def map_object(rows: BronzeColumns, ctx: FhirContext) -> tuple[list[PassedResource], list[PassProblem]]:
    """Map the bronze rows of one FHIR object (bundle or NDJSON file).

    Each resource's JSON is parsed once, after its references are rewritten on the text; the
    reference index is built from the bronze columns (type, id, fullUrl, ifNoneExist).
    """
    from medlake.formats.fhir import ReferenceIndex, key_of, rewrite_reference_text

    if ctx.keep_ids:
        return _keep_ids(rows, ctx)
    types, ids = _types_and_ids(rows)
    index = ReferenceIndex.from_columns(types, ids, rows.full_url, rows.if_none_exist, rows.resource)
    out: list[PassedResource] = []
    problems: list[PassProblem] = []
    rewrite, dangling = _rewriter(index, ctx)
    cache: dict[str, str] = {}
    tenant, system = ctx.tenant, ctx.system
    loads = orjson.loads
    for rtype, rid, url, ine, entry_index, text, rec in zip(
        types, ids, rows.full_url, rows.if_none_exist, rows.entry_index, rows.resource, rows.record_index, strict=True
    ):
        key = key_of(ine, rid, url)
        if key is None:
            where = f"entry {entry_index} ({rtype})"
            problems.append(PassProblem(rec, where, "resource has no id and no fullUrl; it cannot be given a stable id"))
            continue
        resource: dict[str, Any] = loads(rewrite_reference_text(text, rewrite, cache))
        if dangling:
            where = f"entry {entry_index} ({rtype})"
            problems.extend(
                PassProblem(rec, where, f"reference `{ref[:80]}` matches no resource in the bundle (dangling)")
                for ref in dangling
            )
            dangling.clear()
        sid = silver_id(tenant, system, rtype, key)
        resource["id"] = sid
        if not _stamp(resource, ctx):
            problems.append(PassProblem(rec, f"entry {entry_index} ({rtype})", _BAD_META))
            continue
        out.append(PassedResource(rtype, key, sid, resource, rec, _patient_of(rtype, sid, resource)))
    return out, problems


_BAD_META = "`meta` is not a FHIR Meta (an object whose `tag` is a list of Codings)"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _stamp(resource: dict[str, Any], ctx: FhirContext) -> bool:
    """Name the source in `meta.source` and the source tag; False when `meta` is malformed."""
    meta = resource.get("meta") or {}
    tags = meta.get("tag", []) if isinstance(meta, dict) else None
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        return False
    meta = dict(meta)
    meta["source"] = ctx.system
    tags = [t for t in tags if t.get("system") != SOURCE_TAG_SYSTEM]
    meta["tag"] = [*tags, {"system": SOURCE_TAG_SYSTEM, "code": ctx.source}]
    resource["meta"] = meta
    return True


def _keep_ids(rows: BronzeColumns, ctx: FhirContext) -> tuple[list[PassedResource], list[PassProblem]]:
    """`ids: keep`: each resource keeps its `id` and its references (they already are lake ids)."""
    out: list[PassedResource] = []
    problems: list[PassProblem] = []
    for text, entry_index, rec in zip(rows.resource, rows.entry_index, rows.record_index, strict=True):
        resource: dict[str, Any] = orjson.loads(text)
        rtype, rid = resource.get("resourceType"), resource.get("id")
        where = f"entry {entry_index} ({rtype})"
        if not isinstance(rid, str) or not _FHIR_ID.match(rid):
            problems.append(PassProblem(rec, where, "`ids: keep` needs an `id` on every resource (1-64 letters, digits, `-` or `.`); this one has none or a malformed one"))
            continue
        if not _stamp(resource, ctx):
            problems.append(PassProblem(rec, where, _BAD_META))
            continue
        out.append(PassedResource(str(rtype), rid, rid, resource, rec, _patient_of(str(rtype), rid, resource)))
    return out, problems


def _types_and_ids(rows: BronzeColumns) -> tuple[list[str], list[str | None]]:
    """Resource types and ids from the bronze columns; from the JSON where a type is missing."""
    types, ids = list(rows.resource_type), list(rows.resource_id)
    for i, rtype in enumerate(types):
        if rtype is None:  # not written by this bronze: read the resource itself
            resource = orjson.loads(rows.resource[i])
            types[i] = resource.get("resourceType", "")
            rid = resource.get("id")
            ids[i] = rid if isinstance(rid, str) else None
    return types, ids  # type: ignore[return-value]


def _rewriter(index: Any, ctx: FhirContext) -> tuple[Callable[[str], str | None], list[str]]:
    """The reference rewriter of one object, and the list it appends unresolvable references to."""
    dangling: list[str] = []
    tenant, system = ctx.tenant, ctx.system

    def rewrite(ref: str) -> str | None:
        target = index.resolve(ref)
        if target is None:
            dangling.append(ref)
            return None
        return silver_reference(tenant, system, target.resource_type, target.key)

    return rewrite, dangling


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
