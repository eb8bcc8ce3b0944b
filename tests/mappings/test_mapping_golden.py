"""Golden test: a hand-written spec + rows → the expected FHIR resources.

Input: golden/clinic.yaml (spec) and golden/visits.txt (pipe-delimited rows), both written by
hand for this test to exercise one feature per field (see the comments in the spec).
Expected: golden/visits.expected.json. Regenerate with `MEDLAKE_UPDATE_GOLDEN=1 pytest …` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mapping_helpers import CTX, read_table

from medlake.silver.ids import silver_id
from medlake.silver.mappings.delimited import load_spec, map_rows

GOLDEN = Path(__file__).parent / "golden"


def test_visits_golden() -> None:
    spec = load_spec(str(GOLDEN / "clinic.yaml"))
    kind = spec.kind_for("incoming/VISITS_2023-01.TXT")
    assert kind == "visits"
    out = map_rows(spec, kind, read_table(GOLDEN / "visits.txt", "|"), CTX)
    assert out.problems == []
    got = [
        {
            "record_index": r.record_index,
            "source_id": r.source_id,
            "patient_id": r.patient_id,
            "resource": r.resource,
        }
        for r in out.resources
    ]
    expected_path = GOLDEN / "visits.expected.json"
    if os.environ.get("MEDLAKE_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(expected_path.read_text("utf-8"))


def test_ids_and_patient_ids_are_silver_ids() -> None:
    spec = load_spec(str(GOLDEN / "clinic.yaml"))
    out = map_rows(spec, "visits", read_table(GOLDEN / "visits.txt", "|"), CTX)
    for r in out.resources:
        assert r.id == silver_id(CTX.tenant, CTX.system, r.resource_type, r.source_id)
        assert r.resource["id"] == r.id
        assert r.resource["meta"] == {
            "source": "urn:acme:clinic",
            "tag": [{"system": "https://medlake.dev/fhir/source", "code": "clinic"}],
        }
    result = next(r for r in out.resources if r.source_id == "V1|result")
    # `source: lab`: the lab's patient, under the lab's system.
    assert result.patient_id == silver_id("acme", "urn:acme:lab", "Patient", "L-1001")
    weight = next(r for r in out.resources if r.source_id == "V1|weight")
    assert weight.patient_id == silver_id("acme", "urn:acme:clinic", "Patient", "1001")


def test_kind_for_matches_base_name_case_insensitively() -> None:
    spec = load_spec(str(GOLDEN / "clinic.yaml"))
    assert spec.kind_for("/data/in/Visits.TXT") == "visits"
    assert spec.kind_for("C:\\drop\\visits_1.txt") == "visits"
    assert spec.kind_for("patients.txt") is None
    assert spec.kinds["visits"].resource_types == (
        "Patient",
        "Encounter",
        "Observation",
        "Observation",
    )


def test_the_doc_example_is_a_valid_spec(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).parents[2] / "docs" / "mapping-specs.md").read_text("utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1))
    assert list(load_spec(str(path)).kinds) == ["patients"]
