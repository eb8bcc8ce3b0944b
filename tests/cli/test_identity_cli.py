"""`medlake identity show / review / link / unlink` over a hand-made three-patient lake.

Patients (written by hand, no real person): `a` (ehr) and `b` (clinic) are the same person —
same name, birth date, sex, address, phone and email; `c` (ehr) is someone else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medlake.cli.main import app
from medlake.config import load_config
from medlake.pipeline import open_lake
from medlake.silver import store
from medlake.silver.identity.stage import run_identity

runner = CliRunner()
CONFIG = """\
lake: ./lake
tenants:
- name: t
  sources:
  - {name: ehr, kind: fhir, location: ehr}
  - {name: clinic, kind: fhir, location: clinic}
"""


def _patient(pid: str, source: str, given: str, family: str, born: str, phone: str) -> store.SilverRecord:
    res: dict[str, Any] = {
        "resourceType": "Patient", "id": pid,
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": f"urn:{source}", "value": f"M-{pid}"}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "telecom": [{"system": "phone", "value": phone}, {"system": "email", "value": f"{given}.{family}@example.org"}],
        "gender": "female", "birthDate": born,
        "address": [{"use": "home", "line": ["12 Elm St"], "city": "Chicago", "state": "IL", "postalCode": "60601"}],
    }
    return store.SilverRecord(pid, "Patient", res, pid, source, f"urn:{source}", pid, "sha", "obj", 0, "b0")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mpi_cli")
    (root / "medlake.yaml").write_text(CONFIG, encoding="utf-8")
    project = load_config(root / "medlake.yaml")
    lake = open_lake(project, "t")
    store.write(lake, "t", [
        _patient("a", "ehr", "Ada", "Lovelace", "1915-12-10", "312-555-0101"),
        _patient("b", "clinic", "Ada", "Lovelace", "1915-12-10", "312-555-0101"),
        _patient("c", "ehr", "Grace", "Hopper", "1906-12-09", "212-555-0199"),
    ])
    run_identity(project, project.tenants[0], lake, "run1")
    return root / "medlake.yaml"


def _invoke(*args: str) -> Any:
    return runner.invoke(app, ["identity", *args])


def test_show_by_patient_and_by_person(config: Path) -> None:
    res = _invoke("show", "a", "-c", str(config))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    person = lines[0].split()[1].rstrip(":")
    assert lines[0] == f"person {person}: 2 record(s) from clinic, ehr"
    assert lines[1] == "golden record: Ada Lovelace · female · born 1915-12-10"
    assert lines[2] == "records:"
    assert lines[3].startswith("  Patient/a source=ehr rule=") and lines[4].startswith("  Patient/b source=clinic rule=")
    assert lines[5] == "links: 1 scored pair(s)"
    assert lines[6].startswith("  a ~ b link p=")
    assert lines[7].startswith("    evidence: ")
    assert _invoke("show", person, "-c", str(config)).output == res.output


def test_show_unknown_id(config: Path) -> None:
    res = _invoke("show", "nope", "-c", str(config))
    assert res.exit_code == 2
    assert "`nope` is neither an enterprise person id nor a silver Patient id of this tenant" in res.output.replace("\n", "")


def test_review_is_empty_here(config: Path) -> None:
    res = _invoke("review", "-c", str(config))
    assert res.exit_code == 0, res.output
    assert res.output == "0 pair(s) open for review\n"


def test_unlink_then_link_with_reasons(config: Path) -> None:
    res = _invoke("unlink", "a", "b", "--reason", "different people", "-c", str(config))
    assert res.exit_code == 0, res.output
    assert res.output == "unlinked a and b; the next `medlake build` (identity stage) applies it\n"
    project = load_config(config)
    lake = open_lake(project, "t")
    run_identity(project, project.tenants[0], lake, "run2")
    assert _invoke("show", "a", "-c", str(config)).output.splitlines()[0].endswith("1 record(s) from ehr")
    res = _invoke("link", "a", "c", "--reason", "confirmed by registration", "-c", str(config))
    assert res.exit_code == 0, res.output
    run_identity(project, project.tenants[0], lake, "run3")
    assert "2 record(s) from ehr" in _invoke("show", "c", "-c", str(config)).output.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["link", "a", "zz", "--reason", "x"], "`zz` is not a silver Patient id the identity index knows"),
        (["link", "a", "a", "--reason", "x"], "cannot link patient `a` with itself; name two different patients"),
        (["unlink", "a", "b", "--reason", " "], "a manual unlink needs a reason"),
    ],
)
def test_bad_link_requests(config: Path, args: list[str], message: str) -> None:
    res = _invoke(*args, "-c", str(config))
    assert res.exit_code == 2
    assert message in res.output.replace("\n", "")
