"""A tiny hand-built tenant for the check-engine tests: a project file, a checks folder and
flat views written directly as Delta tables (no pipeline run).

Written by hand for these tests; every row is made up and counted in the tests' comments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from medlake.config import ProjectConfig, load_config
from medlake.lake import delta
from medlake.lake.paths import TenantLake
from medlake.pipeline import open_lake

PROJECT_YAML = """\
lake: ./lake
tenants:
  - name: t
    checks_dir: ./checks
    sources:
      - {name: ehr, kind: fhir, location: ./in}
"""

# views.patient: 5 patients, 3 from `ehr` (one without birth date), 2 from `lab` (one without
# birth date, one with gender `x`); views.encounter: 4 encounters, one pointing at no patient
# and one ending before it starts.
PATIENTS: list[dict[str, Any]] = [
    {"id": "p1", "source": "ehr", "birth_date": "1950-01-01", "gender": "female"},
    {"id": "p2", "source": "ehr", "birth_date": None, "gender": "male"},
    {"id": "p3", "source": "ehr", "birth_date": "1990-05-05", "gender": "female"},
    {"id": "p4", "source": "lab", "birth_date": None, "gender": "male"},
    {"id": "p5", "source": "lab", "birth_date": "2001-02-03", "gender": "x"},
]
ENCOUNTERS: list[dict[str, Any]] = [
    {"id": "e1", "patient_id": "p1", "source": "ehr", "period_start": 1, "period_end": 2},
    {"id": "e2", "patient_id": "p2", "source": "ehr", "period_start": 5, "period_end": 3},
    {"id": "e3", "patient_id": "p9", "source": "lab", "period_start": 1, "period_end": None},
    {"id": "e4", "patient_id": "p4", "source": "lab", "period_start": 2, "period_end": 2},
]


def write_project(root: Path, checks: str | None = None) -> ProjectConfig:
    """`root/medlake.yaml` (tenant `t`) and, when given, `root/checks/test.yaml`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "medlake.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    (root / "checks").mkdir(exist_ok=True)
    (root / "in").mkdir(exist_ok=True)
    if checks is not None:
        (root / "checks" / "test.yaml").write_text(checks, encoding="utf-8")
    return load_config(root / "medlake.yaml")


def write_view(lake: TenantLake, name: str, rows: list[dict[str, Any]]) -> None:
    delta.overwrite(lake.view(name), pa.Table.from_pylist(rows), lake.delta_options())


def tiny_lake(root: Path, checks: str | None = None) -> tuple[ProjectConfig, TenantLake]:
    project = write_project(root, checks)
    lake = open_lake(project, "t")
    write_view(lake, "patient", PATIENTS)
    write_view(lake, "encounter", ENCOUNTERS)
    return project, lake
