"""parse_fhir and ReferenceIndex on real Synthea bundles from ../shared (see its SOURCE.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from medlake.formats.fhir import (
    FhirEntry,
    ReferenceIndex,
    is_contained,
    iter_references,
    parse_fhir,
    source_key,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data" / "synthea-fhir-r4"
FOLDERS = ["fhir-data-pipes-synthea-hiv", "pathling-synthea-v3.0.0", "smart-generated-sample-data-r4"]

pytestmark = pytest.mark.shared


@cache
def parsed(folder: str) -> dict[str, list[FhirEntry]]:
    """Every JSON file of `folder` (incremental/ included), parsed once per test session."""
    if not DATA.is_dir():
        pytest.skip(f"../shared not present: {DATA} holds the Synthea sample bundles")
    files = sorted((DATA / folder).rglob("*.json"))
    assert files, f"no bundles in {DATA / folder}"
    out = {}
    for path in files:
        result = parse_fhir(path.read_bytes(), name=path.name, errors="raise")
        assert (result.container, result.problems) == ("bundle", [])
        out[str(path.relative_to(DATA / folder))] = result.entries
    return out


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_entry_of_every_bundle_parses(folder: str) -> None:
    files = parsed(folder)
    for name, entries in files.items():
        raw_count = (DATA / folder / name).read_bytes().count(b'"resource" :') + (
            DATA / folder / name
        ).read_bytes().count(b'"resource":')
        assert len(entries) == raw_count, name
        assert [e.index for e in entries] == list(range(len(entries)))
        assert all(source_key(e) for e in entries)


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_reference_resolves(folder: str) -> None:
    entries = [e for file_entries in parsed(folder).values() for e in file_entries]
    index = ReferenceIndex.build(entries)
    unresolved, resolved = [], 0
    for entry in entries:
        for path, ref in iter_references(entry.resource):
            if is_contained(ref["reference"]):
                continue
            if index.resolve(ref["reference"]) is None:
                unresolved.append((entry.resource["resourceType"], path, ref["reference"]))
            resolved += 1
    assert unresolved == []
    assert resolved > 10_000


def test_conditional_references_land_on_the_conditional_creates() -> None:
    """Patient bundles say `Practitioner?identifier=…`; the batch bundles create them with
    `ifNoneExist`. Resolving across the folder must give exactly those files' source keys."""
    files = parsed("fhir-data-pipes-synthea-hiv")
    shared_files = [n for n in files if n.startswith(("hospitalInformation", "practitionerInformation"))]
    assert len(shared_files) == 2
    created = {
        (e.resource["resourceType"], source_key(e))
        for n in shared_files for e in files[n] if e.if_none_exist
    }
    assert len(created) > 3000
    index = ReferenceIndex.build(e for entries in files.values() for e in entries)
    conditional = 0
    for name, entries in files.items():
        if name in shared_files:
            continue
        for entry in entries:
            for _path, ref in iter_references(entry.resource):
                if "?" in ref["reference"]:
                    target = index.resolve(ref["reference"])
                    assert target is not None
                    assert (target.resource_type, target.key) in created, ref["reference"]
                    assert ref["reference"].split("?")[0] == target.resource_type
                    conditional += 1
    assert conditional > 10_000
    # and without the batch bundles they still line up, by the identifier itself
    patients_only = ReferenceIndex.build(
        e for n, entries in files.items() if n not in shared_files for e in entries
    )
    npi = "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999999"
    target = patients_only.resolve(npi)
    assert target is not None and ("Practitioner", target.key) in created
