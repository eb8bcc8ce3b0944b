"""Golden files: each input in golden/ beside its expected parse (see golden/*/SOURCE.md).

Regenerate after an intended change with `MEDLAKE_REGEN_GOLDEN=1 pytest tests/formats`, then
read the diff: the expected files are the specification.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from medlake.formats.delimited import DelimitedOptions, parse_delimited
from medlake.formats.fhir import ReferenceIndex, iter_references, parse_fhir, source_key

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("MEDLAKE_REGEN_GOLDEN") == "1"

DELIMITED_OPTIONS: dict[str, dict[str, Any]] = {
    "rfc4180_quoted.csv": {},
    "pipe_ragged_truncated.txt": {"delimiter": "|"},
    "caret_pipe.txt": {"delimiter": "^|^"},
    "tab_no_header.tsv": {
        "delimiter": "\t",
        "header": False,
        "columns": ["result_id", "date", "test", "value"],
    },
}


def _problems(problems: list[Any]) -> list[dict[str, Any]]:
    return [
        {"position": p.position, "message": p.message, "line": p.line,
         "record_index": p.record_index, "text": p.text}
        for p in problems
    ]


def render_delimited(name: str) -> dict[str, Any]:
    options = DELIMITED_OPTIONS[name]
    opts = {**options, "columns": tuple(options["columns"])} if "columns" in options else options
    result = parse_delimited((GOLDEN / "delimited" / name).read_bytes(), DelimitedOptions(**opts))
    return {
        "options": options,
        "columns": result.columns,
        "rows": result.table.to_pylist(),
        "problems": _problems(result.problems),
        "encoding": result.encoding,
        "line_terminator": result.line_terminator,
        "rows_read": result.rows_read,
    }


def render_fhir(name: str) -> dict[str, Any]:
    result = parse_fhir((GOLDEN / "fhir" / name).read_bytes(), name=name)
    index = ReferenceIndex.build(result.entries)
    entries = []
    for e in result.entries:
        refs = {}
        for path, ref in iter_references(e.resource):
            target = index.resolve(ref["reference"])
            refs[path] = None if target is None else [target.resource_type, target.key]
        entries.append({
            "index": e.index, "resourceType": e.resource["resourceType"],
            "full_url": e.full_url, "request_method": e.request_method,
            "request_url": e.request_url, "if_none_exist": e.if_none_exist,
            "source_key": source_key(e), "references": refs,
        })
    return {
        "container": result.container, "bundle_type": result.bundle_type,
        "entries": entries, "problems": _problems(result.problems),
    }


CASES = [("delimited", n) for n in DELIMITED_OPTIONS] + [
    ("fhir", "transaction_conditional.json"),
    ("fhir", "bulk_export.ndjson"),
]


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_golden(kind: str, name: str) -> None:
    actual = render_delimited(name) if kind == "delimited" else render_fhir(name)
    expected_path = GOLDEN / kind / (name.rsplit(".", 1)[0] + ".expected.json")
    if REGEN:
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    expected = json.loads(expected_path.read_text())
    assert actual == expected
