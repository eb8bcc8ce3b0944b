"""A tiny two-source lake for the observability tests: a delimited patient feed whose rows carry
names and birth dates (PHI the alerts and logs must never show) and a FHIR feed."""

from __future__ import annotations

from pathlib import Path

from medlake.config import ProjectConfig, load_config

# PHI planted in the data: none of these strings may appear in an alert, a log line or a metric
PHI = ("Zebediah", "Quigglesworth", "Marisol", "Featherstonehaugh", "1937-02-11", "MRN-778812")

SPEC = """\
name: tiny
description: a patient feed with names for the observability tests
kinds:
  patients:
    match: ["*.csv"]
    resources:
      - type: Patient
        id: "{mrn}"
        fields:
          identifier[0].system: urn:test:mrn
          identifier[0].value: "{mrn}"
          name[0].family: "{family}"
          name[0].given[0]: "{given}"
          birthDate: {column: dob, type: date}
"""


def write_project(root: Path, alerts: str = "") -> ProjectConfig:
    """Sources under `root` (one clean csv, one with a ragged record, one non-JSON FHIR file)."""
    feed = root / "feed"
    feed.mkdir(parents=True, exist_ok=True)
    (feed / "a.csv").write_text(
        "mrn,family,given,dob\nMRN-778812,Quigglesworth,Zebediah,1937-02-11\n2,Featherstonehaugh,Marisol,1980-03-04\n"
    )
    (feed / "b.csv").write_text("mrn,family,given,dob\n3,Quigglesworth,Zebediah,1937-02-11,extra\n4,Lee,Ann,2000-07-08\n")
    fhir = root / "fhir"
    fhir.mkdir(exist_ok=True)
    (fhir / "bad.json").write_text('{"resourceType": "Patient", "name": [{"family": "Quigglesworth"')
    (root / "tiny.yaml").write_text(SPEC)
    (root / "medlake.yaml").write_text(
        "lake: ./lake\ntenants:\n  - name: t\n"
        "    sources:\n"
        "      - {name: feed, kind: delimited, location: ./feed, mapping: ./tiny.yaml}\n"
        "      - {name: fhir, kind: fhir, location: ./fhir}\n" + alerts,
        encoding="utf-8",
    )
    return load_config(root / "medlake.yaml")
