"""`OUT/medlake.yaml`: a ready project config for the generated feeds (tenant `demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from medlake.synth.emit_clinic import CLINIC_TZ

HOME_TZ = "America/Chicago"


def project_config() -> dict[str, Any]:
    """The config as data: one source per system (the clinic's `^|^` feed is its own source)."""
    csv = {"delimiter": ",", "quote": '"', "header": True, "encoding": "auto"}
    sources: list[dict[str, Any]] = [
        {"name": "ehr", "kind": "delimited", "location": "ehr/*.txt", "mapping": "medlake-ehr", "timezone": HOME_TZ,
         "format": {"delimiter": "|", "quote": None, "header": True, "encoding": "auto"}},
        {"name": "clinic", "kind": "delimited", "location": "clinic/*.csv", "mapping": "medlake-clinic",
         "system": "urn:medlake:demo:clinic", "timezone": CLINIC_TZ, "format": csv},
        {"name": "clinic_meds", "kind": "delimited", "location": "clinic/*.txt", "mapping": "medlake-clinic",
         "system": "urn:medlake:demo:clinic", "timezone": CLINIC_TZ,
         "format": {"delimiter": "^|^", "quote": None, "header": True, "encoding": "auto"}},
        {"name": "fhir_ehr", "kind": "fhir", "location": "fhir_ehr", "timezone": HOME_TZ},
        {"name": "lab", "kind": "hl7v2", "location": "lab", "timezone": HOME_TZ},
        {"name": "adt", "kind": "hl7v2", "location": "adt", "timezone": HOME_TZ},
        {"name": "claims", "kind": "x12", "location": "claims", "timezone": HOME_TZ},
        {"name": "pharmacy", "kind": "delimited", "location": "pharmacy/*.csv", "mapping": "medlake-pharmacy",
         "timezone": HOME_TZ, "format": csv},
        {"name": "wearables", "kind": "delimited", "location": "wearables/*.csv", "mapping": "medlake-wearables",
         "timezone": HOME_TZ, "format": csv},
    ]
    # the synthetic encounters carry a class but no coded type (CPT/SNOMED visit codes are
    # user-supplied), so the quality measures count finished ambulatory and virtual encounters
    tenant = {"name": "demo", "timezone": HOME_TZ, "quality_visit_classes": ["AMB", "VR"], "sources": sources}
    return {"lake": "./lake", "tenants": [tenant]}


def write_project_config(out: Path, emitted: list[str] | None = None) -> Path:
    path = out / "medlake.yaml"
    header = ("# medlake project for the synthetic health system generated here (medlake.synth).\n"
              "# Paths are relative to this file. Ground truth for tests lives in ./truth/.\n")
    path.write_text(header + yaml.safe_dump(project_config(), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
