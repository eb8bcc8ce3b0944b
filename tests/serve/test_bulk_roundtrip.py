"""Bulk export round trip: Synthea → lake A → `$export` → NDJSON → lake B gives the same silver.

Lake A ingests the three Synthea FHIR R4 samples of ../shared/data (22,699 resources in 22
types). Its whole silver layer is exported over HTTP (`GET /$export`), every NDJSON file is
downloaded, and lake B ingests those files as one FHIR source with `ids: keep`. The two
silver layers must hold the same resources: the same types, ids and `patient_id`s, and the same
JSON apart from the lake's own bookkeeping in `meta`, which names *this* lake's source and
record time:

- `meta.source`: the source system URI that landed the resource (lake A: one per Synthea
  source, `urn:medlake:a:pipes` …; lake B: `urn:medlake:b:restore`);
- the `meta.tag` with system `https://medlake.dev/fhir/source`: the source name (`pipes`,
  `pathling`, `smart` in A; `restore` in B); other tags are kept;
- `meta.lastUpdated`: in A it is what Synthea wrote, if anything; the export writes the
  time lake A recorded the version (as the API does), and lake B keeps that.

Everything else is compared exactly, including the normalized codings and PHI labels silver
added in lake A (lake B's silver stage finds them present and adds nothing).
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from medlake.config import ProjectConfig, load_config
from medlake.pipeline import run
from medlake.silver.history import iso
from medlake.silver.ids import SOURCE_TAG_SYSTEM
from medlake.silver.mappings.fhir_passthrough import BronzeColumns, FhirContext, map_object
from shared_data import shared_path

BOOKKEEPING = ("meta.source", f"meta.tag[system={SOURCE_TAG_SYSTEM}]", "meta.lastUpdated")


def _project(folder: Path, body: str) -> ProjectConfig:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "medlake.yaml").write_text(body, encoding="utf-8")
    return load_config(folder / "medlake.yaml")


Silver = dict[tuple[str, str], tuple[str | None, dict[str, Any], datetime]]


def _silver(project: ProjectConfig, tenant: str) -> Silver:
    """(type, id) → (patient_id, resource, last_updated) of every current silver resource, from Delta."""
    from deltalake import DeltaTable

    root = Path(project.lake_uri()) / tenant / "silver" / "fhir"
    out: Silver = {}
    for folder in sorted(root.iterdir()):
        table = DeltaTable(str(folder)).to_pyarrow_table(columns=["resource_type", "id", "patient_id", "resource", "last_updated"])
        for rtype, rid, pid, text, updated in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
            out[(rtype, rid)] = (pid, orjson.loads(text), updated)
    return out


def _quarantined(project: ProjectConfig, tenant: str) -> int:
    from deltalake import DeltaTable

    folder = Path(project.lake_uri()) / tenant / "_meta" / "quarantine"
    return DeltaTable(str(folder)).to_pyarrow_table().num_rows if folder.exists() else 0


def _without_bookkeeping(resource: dict[str, Any]) -> dict[str, Any]:
    res = dict(resource)
    meta = {k: v for k, v in (res.pop("meta", None) or {}).items() if k not in ("source", "lastUpdated")}
    tags = [t for t in meta.pop("tag", []) if t.get("system") != SOURCE_TAG_SYSTEM]
    if tags:
        meta["tag"] = tags
    if meta:
        res["meta"] = meta
    return res


def _export(project: ProjectConfig, tenant: str, into: Path) -> dict[str, Any]:
    """Export everything over HTTP and download each file into `into`; the manifest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from medlake.serve.app import anonymous, create_app

    audited: list[tuple[str, str, int]] = []
    app = create_app(project, tenant, auth=anonymous, audit=lambda req, who, action, rtype, n: audited.append((action, rtype, n)))
    into.mkdir(parents=True)
    with TestClient(app) as client:
        kick = client.get("/$export", headers={"Prefer": "respond-async", "Accept": "application/fhir+json"})
        assert kick.status_code == 202, kick.text
        assert app.state.bulk.jobs.wait_idle(120)
        status = client.get(kick.headers["Content-Location"])
        assert status.status_code == 200, status.text
        manifest: dict[str, Any] = status.json()
        for out in manifest["output"]:
            got = client.get(out["url"])
            assert got.status_code == 200 and got.headers["content-type"] == "application/fhir+ndjson"
            (into / out["url"].rsplit("/", 1)[-1]).write_bytes(got.content)
    assert sorted(audited) == sorted(("export", o["type"], o["count"]) for o in manifest["output"])
    return manifest


@pytest.mark.shared
@pytest.mark.slow
def test_synthea_exported_and_reingested_gives_the_same_silver(tmp_path: Path) -> None:
    root = shared_path("data", "synthea-fhir-r4")
    lake_a = _project(tmp_path / "a", f"""
lake: ./lake
tenants:
  - name: a
    sources:
      - {{name: pipes, kind: fhir, location: "{root / 'fhir-data-pipes-synthea-hiv'}/**/*.json"}}
      - {{name: pathling, kind: fhir, location: "{root / 'pathling-synthea-v3.0.0'}/*.json"}}
      - {{name: smart, kind: fhir, location: "{root / 'smart-generated-sample-data-r4'}/*.json"}}
""")
    run(lake_a, "a", stages=("land", "bronze", "silver"), workers=1)
    manifest = _export(lake_a, "a", tmp_path / "b" / "export")
    lake_b = _project(tmp_path / "b", """
lake: ./lake
tenants:
  - name: b
    sources:
      - {name: restore, kind: fhir, location: "export/*.ndjson", ids: keep}
""")
    run(lake_b, "b", stages=("land", "bronze", "silver"), workers=1)

    before, after = _silver(lake_a, "a"), _silver(lake_b, "b")
    assert len(before) == 22_699 and sum(o["count"] for o in manifest["output"]) == len(before)
    assert {t for t, _ in after} == {t for t, _ in before} and len({t for t, _ in before}) == 22
    assert after.keys() == before.keys()
    differ = [key for key in before if before[key][0] != after[key][0]]
    assert differ == [], f"patient_id differs for {len(differ)} resources, e.g. {differ[:3]}"
    differ = [key for key in before if _without_bookkeeping(before[key][1]) != _without_bookkeeping(after[key][1])]
    assert differ == [], f"content differs beyond {BOOKKEEPING} for {len(differ)} resources, e.g. {differ[:3]}"
    assert _quarantined(lake_a, "a") == 0 and _quarantined(lake_b, "b") == 0
    # the bookkeeping differs, as documented: B names its own source, and keeps A's record time
    for key, (_, res, _) in after.items():
        assert res["meta"]["source"] == "urn:medlake:b:restore"
        assert [t["code"] for t in res["meta"]["tag"] if t["system"] == SOURCE_TAG_SYSTEM] == ["restore"]
        assert res["meta"]["lastUpdated"] == iso(before[key][2])


def _ndjson_columns(lines: list[str]) -> BronzeColumns:
    n = len(lines)
    return BronzeColumns([None] * n, [None] * n, [None] * n, [None] * n, list(range(1, n + 1)), lines, list(range(n)))


def test_keep_ids_keeps_ids_and_references_and_reports_resources_without_one() -> None:
    lines = [
        orjson.dumps({"resourceType": "Patient", "id": "p-1", "meta": {"tag": [{"system": SOURCE_TAG_SYSTEM, "code": "old"}]}}).decode(),
        '{"resourceType":"Observation","id":"o.1","subject":{"reference":"Patient/p-1"},"hasMember":[{"reference":"urn:uuid:x"}]}',
        '{"resourceType":"Observation","subject":{"reference":"Patient/p-1"}}',
        '{"resourceType":"Observation","id":"bad id"}',
        '{"resourceType":"Observation","id":"o2","meta":{"tag":"x"}}',
    ]
    out, problems = map_object(_ndjson_columns(lines), FhirContext("b", "restore", "urn:medlake:b:restore", keep_ids=True))
    assert [(m.resource_type, m.id, m.source_id, m.patient_id, m.record_index) for m in out] == [
        ("Patient", "p-1", "p-1", "p-1", 0), ("Observation", "o.1", "o.1", "p-1", 1),
    ]
    assert out[1].resource["subject"] == {"reference": "Patient/p-1"}
    assert out[1].resource["hasMember"] == [{"reference": "urn:uuid:x"}]  # kept as it was, not resolved
    assert out[0].resource["meta"] == {"tag": [{"system": SOURCE_TAG_SYSTEM, "code": "restore"}], "source": "urn:medlake:b:restore"}
    keep = "`ids: keep` needs an `id` on every resource (1-64 letters, digits, `-` or `.`); this one has none or a malformed one"
    assert [(p.record_index, p.position, p.message) for p in problems] == [
        (2, "entry 3 (Observation)", keep),
        (3, "entry 4 (Observation)", keep),
        (4, "entry 5 (Observation)", "`meta` is not a FHIR Meta (an object whose `tag` is a list of Codings)"),
    ]


def test_ids_keep_is_for_fhir_sources_only(tmp_path: Path) -> None:
    from medlake.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        _project(tmp_path, """
lake: ./lake
tenants:
  - name: b
    sources:
      - {name: feed, kind: hl7v2, location: "in/*.hl7", ids: keep}
""")
    assert "`ids: keep` is for FHIR sources only; other kinds always derive silver ids" in str(caught.value)
