"""Each delimited file parses and maps through the shipped specs with no problems except the
injected defects; the FHIR feed is JSON except the one injected malformed line."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from _mapping import map_out

from medlake.synth.generate import SynthSummary


def _defects(out: Path) -> list[dict[str, str]]:
    with (out / "truth" / "defects.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _holes(value: Any) -> bool:
    if isinstance(value, dict):
        return not value or any(_holes(v) for v in value.values())
    if isinstance(value, list):
        return any(v is None or _holes(v) for v in value)
    return value is None or value == ""


def test_delimited_feeds_map_without_problems_except_injected(small_out: tuple[Path, SynthSummary]) -> None:
    out, summary = small_out
    defects = _defects(out)
    parse_defects = Counter(d["file"] for d in defects if d["defect"] in ("ragged_row", "truncated_file"))
    encoding = {d["file"] for d in defects if d["defect"] == "unexpected_encoding"}
    result = map_out(out)
    assert result
    for rel, r in result.items():
        assert not r["map_problems"], (rel, r["map_problems"][:3])
        assert len(r["parse_problems"]) == parse_defects.get(rel, 0), (rel, r["parse_problems"][:3])
        assert (r["error"] is not None) == (rel in encoding), rel
        assert r["rows"] == summary.rows[rel] - parse_defects.get(rel, 0), rel
        assert r["sample"] is None or not _holes(r["sample"]), (rel, r["sample"])
    kinds = Counter()
    for r in result.values():
        kinds.update(r["resources"])
    for rtype in ("Patient", "Encounter", "Condition", "Observation", "Procedure", "MedicationRequest",
                  "MedicationDispense", "Device"):
        assert kinds[rtype] > 0, rtype


def test_every_patient_row_carries_its_mrn_identifier(small_out: tuple[Path, SynthSummary]) -> None:
    out, _ = small_out
    result = map_out(out)
    for rel in ("ehr/patients_1.txt", "clinic/patients.csv", "pharmacy/fills_2022.csv", "wearables/devices.csv"):
        sample = result[rel]["sample"]
        assert sample["resourceType"] == "Patient"
        ident = sample["identifier"][0]
        assert ident["system"].startswith("urn:oid:2.16.840.1.113883.3.7777.")
        assert ident["value"]


def test_fhir_feed(small_out: tuple[Path, SynthSummary]) -> None:
    out, _ = small_out
    bundles = sorted((out / "fhir_ehr" / "bundles").glob("*.json"))
    assert bundles
    for path in bundles[:40]:
        b = orjson.loads(path.read_bytes())
        assert b["type"] == "transaction"
        urls = {e["fullUrl"] for e in b["entry"]}
        for e in b["entry"]:
            assert e["request"]["method"] == "POST"
            ref = (e["resource"].get("subject") or e["resource"].get("patient") or {}).get("reference")
            assert ref is None or ref in urls
        patient = b["entry"][0]["resource"]
        assert patient["resourceType"] == "Patient" and patient["identifier"][0]["value"]
    bad = 0
    for path in (out / "fhir_ehr" / "ndjson").glob("*.ndjson"):
        for line in path.read_bytes().splitlines():
            try:
                res = orjson.loads(line)
            except orjson.JSONDecodeError:
                bad += 1
                continue
            assert res["resourceType"] == path.stem and res["id"]
    assert bad == sum(1 for d in _defects(out) if d["defect"] == "malformed_json") == 1
