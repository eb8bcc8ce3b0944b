"""End to end: the silver stage writes normalized codings and the unmapped-codes report."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest
import yaml
from e2e_helpers import query, silver_resources

from medlake.config import ProjectConfig, load_config
from medlake.pipeline import run
from medlake.synth.codes import DRUGS, LABS
from medlake.synth.generate import generate

pytestmark = pytest.mark.slow
ICD9 = "http://hl7.org/fhir/sid/icd-9-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
LAB_LOCAL = "urn:medlake:demo:lab/codes/L"
NORM = "https://medlake.dev/fhir/StructureDefinition/normalized-coding"
LEFT_OUT = "lisinopril"  # 68180-513-01: no NDC → RxNorm row, so it must show in the report


def _ndc11(ndc10: str) -> str:
    a, b, c = ndc10.split("-")
    return a.zfill(5) + b.zfill(4) + c.zfill(2)


def _maps(folder: Path) -> None:
    """Concept maps written from the generator's own code tables (the ground truth)."""
    rows = ["source_system,source_code,target_system,target_code,target_display"]
    rows += [f'{LAB_LOCAL},{lab.local_code},{LOINC},{lab.loinc},"{lab.display}"' for lab in LABS.values()]
    rows += [f'{NDC},{d.ndc10},{RXNORM},{d.rxnorm},"{d.display}"' for k, d in DRUGS.items() if k != LEFT_OUT]
    (folder / "maps.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    out = tmp_path_factory.mktemp("terms")
    generate(out, 30, seed=7)
    _maps(out)
    cfg = yaml.safe_load((out / "medlake.yaml").read_text(encoding="utf-8"))
    cfg["tenants"][0]["terminology"] = {"concept_maps": ["maps.csv"]}
    keep = {"ehr", "pharmacy", "lab"}
    cfg["tenants"][0]["sources"] = [s for s in cfg["tenants"][0]["sources"] if s["name"] in keep]
    (out / "medlake.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    p = load_config(out / "medlake.yaml")
    run(p, "demo", stages=("land", "bronze", "silver"), workers=1)
    return p


def _codings(resource: dict[str, object], key: str) -> list[dict[str, object]]:
    concept = resource.get(key)
    return list(concept["coding"]) if isinstance(concept, dict) else []


def test_icd9_conditions_carry_icd10_candidates(project: ProjectConfig) -> None:
    conditions = [r for t, _, r in silver_resources(project, "demo") if t == "Condition"]
    legacy = [r for r in conditions if _codings(r, "code")[0]["system"] == ICD9]
    assert legacy, "the generator writes some ICD-9-CM diagnoses (15% of the EHR's)"
    for r in legacy:
        codings = _codings(r, "code")
        added = [c for c in codings[1:] if c["system"] == ICD10]
        assert added and all(c["extension"][0]["url"] == NORM for c in added)


def test_pharmacy_ndcs_are_11_digits_with_rxnorm(project: ProjectConfig) -> None:
    dispenses = [r for t, _, r in silver_resources(project, "demo") if t == "MedicationDispense"]
    assert dispenses
    by_ndc11 = {_ndc11(d.ndc10): [d.rxnorm] for k, d in DRUGS.items() if k != LEFT_OUT}
    for r in dispenses:
        codings = _codings(r, "medicationCodeableConcept")
        ndc11 = [c["code"] for c in codings if c["system"] == NDC and len(str(c["code"])) == 11 and str(c["code"]).isdigit()]
        rx = [c["code"] for c in codings if c["system"] == RXNORM]
        assert len(ndc11) == 1 and rx == by_ndc11.get(ndc11[0], [])


def test_every_lab_observation_has_loinc(project: ProjectConfig) -> None:
    obs = [r for t, _, r in silver_resources(project, "demo") if t == "Observation" and r["meta"]["source"].endswith(":lab")]
    assert obs
    only_local = 0
    for r in obs:
        codings = _codings(r, "code")
        assert any(c["system"] == LOINC for c in codings), orjson.dumps(r["code"]).decode()
        only_local += all(c["system"] != LOINC or c.get("extension") for c in codings)
    assert only_local > 0, "some lab results arrive with a local code only; the map gave them LOINC"


def test_unmapped_codes_report(project: ProjectConfig) -> None:
    rows = query(project, "demo", "select source, system, code, reason, count, first_batch = last_batch from meta.unmapped_codes")
    assert all(n > 0 and same for *_, n, same in rows)
    reasons = {(s, reason) for s, _, _, reason, _, _ in rows}
    assert ("lab", "local-unmapped") not in reasons
    left_out = _ndc11(DRUGS[LEFT_OUT].ndc10)
    no_rxnorm = {code: n for s, _, code, reason, n, _ in rows if (s, reason) == ("pharmacy", "ndc-no-rxnorm")}
    # counted independently from the feed: fills written in any of the drug's three forms
    forms = {DRUGS[LEFT_OUT].ndc10, left_out, f"{left_out[:5]}-{left_out[5:9]}-{left_out[9:]}"}
    fills = 0
    for f in Path(project.base_dir, "pharmacy").glob("*.csv"):
        fills += sum(row["NDC"] in forms for row in csv.DictReader(f.open(encoding="utf-8")))
    assert fills > 0
    assert no_rxnorm == {left_out: fills}
