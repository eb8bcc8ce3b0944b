"""Bundles (searchset, history), the opaque paging cursor and the CapabilityStatement."""

from __future__ import annotations

import base64
from typing import Any

from medlake.serve.outcome import ApiError
from medlake.serve.params import params_for
from medlake.serve.store import StoredVersion
from medlake.silver.history import iso

EVERYTHING = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"  # Bulk Data $export at three levels (serve/bulk.py)
VIEW_RUN = "http://sql-on-fhir.org/OperationDefinition/$viewdefinition-run"  # SQL-on-FHIR v2 (serve/viewrun.py)


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> str:
    problem = ApiError(400, "invalid", "search parameter `_cursor`: not a cursor this server made; follow the `next` link as given")
    try:
        last_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise problem from exc
    if not last_id or encode_cursor(last_id) != token:
        raise problem
    return last_id


def entry(base: str, res: dict[str, Any], mode: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"fullUrl": f"{base}/{res['resourceType']}/{res['id']}", "resource": res}
    if mode:
        out["search"] = {"mode": mode}
    return out


def searchset(base: str, self_url: str, next_url: str | None, total: int | None, matches: list[dict[str, Any]],
              included: list[dict[str, Any]]) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    bundle["entry"] = [entry(base, r, "match") for r in matches] + [entry(base, r, "include") for r in included]
    return bundle


def history(base: str, self_url: str, rtype: str, rid: str, versions: list[StoredVersion]) -> dict[str, Any]:
    entries = []
    for v in versions:
        entries.append({
            "fullUrl": f"{base}/{rtype}/{rid}",
            "resource": v.resource,
            "request": {"method": "POST" if v.version == 1 else "PUT", "url": rtype if v.version == 1 else f"{rtype}/{rid}"},
            "response": {"status": "201 Created" if v.version == 1 else "200 OK",
                         "etag": f'W/"{v.version}"', "lastModified": iso(v.recorded)},
        })
    return {"resourceType": "Bundle", "type": "history", "total": len(entries),
            "link": [{"relation": "self", "url": self_url}], "entry": entries}


def capability(types: list[str], date: str, software_version: str) -> dict[str, Any]:
    """An R4 CapabilityStatement for the types present in the lake."""
    resources = []
    for rtype in types:
        known = params_for(rtype)
        item: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": c} for c in ("read", "vread", "history-instance", "search-type")],
            "versioning": "versioned",
            "readHistory": True,
            "searchParam": [
                {"name": p.name, "type": p.kind, **({"documentation": p.doc} if p.doc else {})}
                for p in known.params.values()
            ],
        }
        includes = [f"{rtype}:{p.name}" for p in known.references()]
        if includes:
            item["searchInclude"] = includes
        rev = [f"{other}:{p.name}" for other in types for p in params_for(other).references() if rtype in p.targets]
        if rev:
            item["searchRevInclude"] = rev
        if rtype == "Patient":
            item["operation"] = [{"name": "everything", "definition": EVERYTHING}, {"name": "export", "definition": f"{BULK}/patient-export"}]
        if rtype == "Group":
            item["operation"] = [{"name": "export", "definition": f"{BULK}/group-export"}]
        resources.append(item)
    view_run = {"name": "viewdefinition-run", "definition": VIEW_RUN}  # system level: the R4 form
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "medlake", "version": software_version},
        "implementation": {"description": "medlake FHIR R4 API over the silver layer (read-only)"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "rest": [{"mode": "server", "resource": resources, "operation": [{"name": "export", "definition": f"{BULK}/export"}, view_run]}],
    }
