"""FHIR passthrough: bronze columns → silver resources, checked against the tree-walking path.

`map_object` builds its reference index from the bronze columns (identifiers read lazily),
parses each resource once after rewriting references on the JSON text, and caches rewritten
references. The independent computation here parses every entry, builds the index with
`ReferenceIndex.build` and rewrites with `rewrite_references` on the tree.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from medlake.formats.fhir import (
    FhirEntry,
    ReferenceIndex,
    rewrite_reference_text,
    rewrite_references,
    source_key,
)
from medlake.silver.ids import SOURCE_TAG_SYSTEM as SOURCE_TAG
from medlake.silver.ids import silver_id
from medlake.silver.mappings.fhir_passthrough import (
    PATIENT_REFS,
    BronzeColumns,
    FhirContext,
    map_object,
)

CTX = FhirContext("acme", "fhir_ehr", "urn:acme:ehr")

# (resource, fullUrl, ifNoneExist): a transaction bundle with every reference style
ENTRIES: list[tuple[dict[str, Any], str | None, str | None]] = [
    ({"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "M1"}], "name": [{"family": "Peña"}]},
     "urn:uuid:p-1", "identifier=urn:mrn|M1"),
    ({"resourceType": "Patient", "id": "p2", "identifier": {"system": "urn:mrn", "value": "M2"},
      "meta": {"tag": [{"system": SOURCE_TAG, "code": "old"}, {"system": "x", "code": "y"}]}},
     "https://ehr.example/fhir/Patient/p2", None),
    ({"resourceType": "Practitioner", "id": "", "identifier": [{"value": "NPI9"}]}, "urn:uuid:d-1", None),
    ({"resourceType": "Encounter", "subject": {"reference": "urn:uuid:p-1"},
      "participant": [{"individual": {"reference": "Practitioner?identifier=NPI9"}}]}, "urn:uuid:e-1", None),
    ({"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient?identifier=urn:mrn|M2"},
      "encounter": {"reference": "urn:uuid:e-1"}, "performer": [{"reference": "urn:uuid:e-1"}],
      "hasMember": [{"reference": "urn:uuid:missing"}, {"reference": "urn:uuid:missing"}],
      "contained": [{"resourceType": "Device", "id": "dev"}], "device": {"reference": "#dev"},
      "focus": [{"reference": "Patient\\/p2"}, {"reference": "https://ehr.example/fhir/Patient/p2"}]}, None, None),
    ({"resourceType": "Observation", "subject": {"reference": "Patient/elsewhere"}}, None, None),  # no key
    ({"resourceType": "Condition", "id": "c1", "patient": {"reference": "Patient?identifier=urn:mrn|M404"},
      "subject": {"reference": "Patient?name=Smith"}, "meta": {"versionId": "7"}}, "urn:uuid:c-1", None),
]


def _columns(entries: list[tuple[dict[str, Any], str | None, str | None]], with_types: bool = True) -> BronzeColumns:
    texts = [orjson.dumps(r).decode() for r, _, _ in entries]
    ids = [r.get("id") if isinstance(r.get("id"), str) else None for r, _, _ in entries]
    return BronzeColumns(
        resource_type=[r["resourceType"] if with_types else None for r, _, _ in entries],
        resource_id=ids if with_types else [None] * len(entries),
        full_url=[u for _, u, _ in entries],
        if_none_exist=[i for _, _, i in entries],
        entry_index=list(range(len(entries))),
        resource=texts,
        record_index=[100 + k for k in range(len(entries))],
    )


def _expected(entries: list[tuple[dict[str, Any], str | None, str | None]]) -> tuple[list[Any], list[Any]]:
    """The tree-walking computation: every entry parsed, `build`, `rewrite_references`."""
    parsed = [FhirEntry(k, orjson.loads(orjson.dumps(r)), u, None, None, i) for k, (r, u, i) in enumerate(entries)]
    index = ReferenceIndex.build(parsed)
    out, problems = [], []
    for entry in parsed:
        rtype, rec = entry.resource["resourceType"], 100 + entry.index
        where = f"entry {entry.index} ({rtype})"
        key = source_key(entry)
        if key is None:
            problems.append((rec, where, "resource has no id and no fullUrl; it cannot be given a stable id"))
            continue
        dangling: list[str] = []

        def fn(ref: str, dangling: list[str] = dangling) -> str | None:
            target = index.resolve(ref)
            if target is None:
                dangling.append(ref)
                return None
            return f"{target.resource_type}/{silver_id(CTX.tenant, CTX.system, target.resource_type, target.key)}"

        resource = rewrite_references(entry.resource, fn)
        problems.extend((rec, where, f"reference `{r[:80]}` matches no resource in the bundle (dangling)") for r in dangling)
        sid = silver_id(CTX.tenant, CTX.system, rtype, key)
        resource["id"] = sid
        meta = dict(resource.get("meta") or {})
        meta["source"] = CTX.system
        meta["tag"] = [*(t for t in meta.get("tag", []) if t.get("system") != SOURCE_TAG), {"system": SOURCE_TAG, "code": CTX.source}]
        resource["meta"] = meta
        patient = sid if rtype == "Patient" else next(
            (ref["reference"][8:] for n in PATIENT_REFS if isinstance(ref := resource.get(n), dict)
             and str(ref.get("reference", "")).startswith("Patient/")), None)
        out.append((rtype, key, sid, orjson.dumps(resource), rec, patient))
    return out, problems


@pytest.mark.parametrize("with_types", [True, False], ids=["bronze-columns", "types-from-json"])
def test_map_object_equals_the_tree_walking_path(with_types: bool) -> None:
    mapped, problems = map_object(_columns(ENTRIES, with_types), CTX)
    got = [(m.resource_type, m.source_id, m.id, orjson.dumps(m.resource), m.record_index, m.patient_id) for m in mapped]
    want, want_problems = _expected(ENTRIES)
    assert got == want
    assert [(p.record_index, p.position, p.message) for p in problems] == want_problems
    # the dangling reference is reported at each occurrence, not once
    assert sum("urn:uuid:missing" in p.message for p in problems) == 2


def test_from_columns_resolves_like_build() -> None:
    parsed = [FhirEntry(k, r, u, None, None, i) for k, (r, u, i) in enumerate(ENTRIES)]
    cols = _columns(ENTRIES)
    lazy = ReferenceIndex.from_columns(cols.resource_type, cols.resource_id, cols.full_url, cols.if_none_exist, cols.resource)  # type: ignore[arg-type]
    eager = ReferenceIndex.build(parsed)
    assert lazy.by_identifier == {}  # nothing parsed until a conditional reference asks
    refs = ["urn:uuid:p-1", "urn:uuid:e-1", "urn:uuid:nope", "Patient/p2", "Practitioner/", "Patient?identifier=M1",
            "Patient?identifier=urn:mrn|M2", "Practitioner?identifier=NPI9", "Practitioner?identifier=|NPI9",
            "Encounter?identifier=x", "https://ehr.example/fhir/Patient/p2", "#dev", ""]
    assert [lazy.resolve(r) for r in refs] == [eager.resolve(r) for r in refs]
    assert {k: v for k, v in eager.by_identifier.items() if k[0] in ("Patient", "Practitioner")} == lazy.by_identifier


def test_cached_text_rewriting_equals_uncached() -> None:
    text = orjson.dumps(ENTRIES[4][0]).decode()
    calls: list[str] = []

    def fn(ref: str) -> str | None:
        calls.append(ref)
        return None if "missing" in ref else f"X/{ref[::-1]}"

    plain = rewrite_reference_text(text, fn)
    uncached_calls = list(calls)
    calls.clear()
    cache: dict[str, str] = {}
    assert rewrite_reference_text(text, fn, cache) == plain
    dangling = [r for r in uncached_calls if "missing" in r]
    # `fn` is asked once per rewritten reference, and at every occurrence of one it left alone
    assert calls == [r for k, r in enumerate(uncached_calls) if r in dangling or r not in uncached_calls[:k]]
    calls.clear()
    assert rewrite_reference_text(text, fn, cache) == plain
    assert calls == dangling
    assert rewrite_reference_text('{"resourceType":"Patient"}', fn, cache) == '{"resourceType":"Patient"}'
