"""Helpers for the HL7 v2 result/order mapping tests: map a file, and compare with a golden file
written by hand.

A golden `<name>.expected.json` lists, per message, the resources the mapping makes (of the
types these mappings own) and the problems it reports. Ids and references are written as the
source keys they are made from (`"key": "filler:F100|GLU^L|"`, `"reference":
"ServiceRequest/ORD100"`), which a person can work out from the message; `meta` is left out
(it is the same for every resource and is checked once).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from medlake.formats.hl7v2 import Message, parse_hl7
from medlake.silver.mappings import hl7v2
from medlake.silver.mappings.hl7v2_common import Hl7Context, MessageMapper

GOLDEN = Path(__file__).parent / "golden" / "hl7v2_results"
CTX = Hl7Context("acme", "lab", "urn:acme:lab", "America/Chicago")

OWNED = frozenset({
    "Observation", "DiagnosticReport", "ServiceRequest", "Specimen", "Immunization",
    "MedicationRequest", "MedicationDispense", "DocumentReference",
})  # fmt: skip
"""Resource types the result/order mappings make (Patient, Encounter, Practitioner … belong to
other mappings and are only referred to here)."""


def messages(path: Path) -> list[Message]:
    parsed = parse_hl7(path.read_bytes(), name=path.name, errors="raise")
    return parsed.messages


def map_all(path: Path) -> list[MessageMapper]:
    return [hl7v2.map_message(msg, CTX, i) for i, msg in enumerate(messages(path))]


def owned(m: MessageMapper) -> list[dict[str, Any]]:
    """The resources of the types these mappings own (and their manufacturer Organizations)."""
    return [
        r.resource
        for r in m.resources
        if r.resource_type in OWNED or (r.resource_type == "Organization" and r.source_id.startswith("manufacturer:"))
    ]


def symbolic(m: MessageMapper, expected: Any) -> list[dict[str, Any]]:
    """The owned resources with ids and references written as source keys (see module doc);
    references the expected file names are resolved too, so a reference to a resource made
    by another message (the ServiceRequest of an ORU) reads as its key."""
    names: dict[str, str] = {f"{r.resource_type}/{r.id}": f"{r.resource_type}/{r.source_id}" for r in m.resources}
    for ref in _references(expected):
        rtype, _, key = ref.partition("/")
        names[m.ref(rtype, key)] = ref
    keys = {r.id: r.source_id for r in m.resources}
    out = []
    for res in owned(m):
        body = {k: v for k, v in res.items() if k not in ("id", "meta")}
        out.append({"resourceType": body.pop("resourceType"), "key": keys[res["id"]], **_rename(body, names)})
    return out


def _rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: (names.get(v, v) if k == "reference" else _rename(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "reference" and isinstance(v, str)] + [
            r for v in value.values() for r in _references(v)
        ]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def got(path: Path, expected: Any = None) -> list[dict[str, Any]]:
    """What the mapping gives for every message of `path`, in the golden file's form."""
    out = []
    for m in map_all(path):
        out.append({
            "message": m.msg.control_id,
            "resources": symbolic(m, expected),
            "problems": [f"{p.position}: {p.message}" for p in m.problems],
        })  # fmt: skip
    return out


def check_golden(name: str) -> list[dict[str, Any]]:
    """Compare `<name>.hl7` mapped with `<name>.expected.json`; `MEDLAKE_UPDATE_GOLDEN=1`
    rewrites the expected file (review the diff before committing it)."""
    expected_path = GOLDEN / f"{name}.expected.json"
    expected = json.loads(expected_path.read_text("utf-8"))
    result = got(GOLDEN / f"{name}.hl7", expected)
    if os.environ.get("MEDLAKE_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
        expected = result
    assert result == expected
    return result


def validate_r4(m: MessageMapper, per_type: int | None = None) -> None:
    """Validate the owned resources with the fhir.resources R4B models (R4B is R4 for every
    element these mappings write; fhir.resources 8 ships no separate R4 package); at most
    `per_type` of each resource type when given."""
    seen: dict[str, int] = {}
    for res in owned(m):
        seen[res["resourceType"]] = seen.get(res["resourceType"], 0) + 1
        if per_type is not None and seen[res["resourceType"]] > per_type:
            continue
        rtype = res["resourceType"]
        model = getattr(importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}"), rtype)
        model.model_validate(res)
