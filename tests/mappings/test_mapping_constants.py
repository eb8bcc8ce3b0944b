"""Constant parts of a resource (no column, no condition) are built once when the spec is compiled.

The folded value is the one the builders would build for every row; a subtree that reads a
column, or has a `when`, is still built per row.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import orjson
from mapping_helpers import CTX, rows_table

from medlake.silver.mappings.closures import is_constant
from medlake.silver.mappings.delimited import load_spec, map_rows

SPEC = """
name: constants
kinds:
  vitals:
    match: ["vitals*.csv"]
    columns: [ID, CODE, FLAG]
    resources:
      - type: Observation
        id: "{ID}"
        fields:
          status: final
          category[0].coding[0].system: http://terminology.hl7.org/CodeSystem/observation-category
          category[0].coding[0].code: vital-signs
          category[1].text: ""
          code.coding[0].system: http://loinc.org
          code.coding[0].code: "{CODE}"
          note[0]:
            when: "{FLAG}"
            object: {text: flagged}
          valueQuantity: {object: {value: 1, unit: "1"}}
"""


def test_constant_subtrees_are_folded_and_map_as_before(tmp_path: Path) -> None:
    path = tmp_path / "constants.yaml"
    path.write_text(SPEC, encoding="utf-8")
    spec = load_spec(str(path))
    plan = spec.compiled("vitals", CTX).plans[0]
    rows = rows_table([{"ID": "1", "CODE": "8867-4", "FLAG": None}, {"ID": "2", "CODE": None, "FLAG": "x"}])
    out = map_rows(spec, "vitals", rows, CTX)
    assert out.problems == []
    first, second = (orjson.loads(orjson.dumps(r.resource)) for r in out.resources)
    for res in (first, second):
        res.pop("id"), res.pop("meta")
    category = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}]
    assert first == {
        "resourceType": "Observation", "status": "final", "category": category,
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "valueQuantity": {"value": 1, "unit": "1"},
    }
    assert second == {
        "resourceType": "Observation", "status": "final", "category": category,
        "note": [{"text": "flagged"}], "valueQuantity": {"value": 1, "unit": "1"},
    }
    entries = inspect.getclosurevars(plan.build).nonlocals["entries"]  # the resource's top-level elements
    folded = {name: is_constant(getter) for name, getter, _ in entries}
    assert folded == {"status": True, "category": True, "code": False, "note": False, "valueQuantity": True}
