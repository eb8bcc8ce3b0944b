"""A hand-built inpatient population for the readmission and utilization marts.

Where it came from: written by hand for tests/gold/test_readmission_marts.py (no real or
generated person). Every date is UTC; the latest clinical event is pf's visit on 2024-06-30,
so the as-of date is 2024-06-30 and a stay has complete 30-day follow-up when it was
discharged on or before 2024-05-31.

    pa  a1 IMP o1 01-01→01-05 I50.9 + a2 IMP o2 01-06→01-08: transfer (next day, other
        facility) → one stay a1, discharged 01-08 at o2, los 7; ED visit 01-20 (no diagnosis)
        a3 IMP o2 02-07→02-09 (J18.9 from a Condition, no reasonCode): day 30 → readmission
        a4 IMP o2 02-10→02-12: next day, same facility → a new stay, readmission of a3 (day 1)
        Coverage of Acme Health (pay1) from 2023-01-01
    pb  b1 IMP o1 01-01→01-03 I21.4; b2 IMP o1 02-03→02-04: day 31 → not a readmission;
        ED visit 03-15 J18.9
    pc  c1 IMP o1 01-05→01-10; died 2024-01-10 → not an index stay
    pd  d1 IMP o1 03-01→03-02 left against medical advice (NUBC 07) → not an index stay;
        d2 IMP o1 03-10→03-12 J44.1
    pe  e1 IMP o1 04-01→04-03 J18.9; e2 IMP o1 04-20→04-22 Z51.11 (planned: chemotherapy);
        e3 IMP o1 05-01→05-02 priority EL (planned: elective)
    pf  f1 IMP o1 06-15→06-20: follow-up incomplete; AMB visit 06-30 (sets the as-of date)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gold_silver_fixture import ICD10, cc, encounter, silver_table

NUBC = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"


def _patient(pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "birthDate": "1950-01-01",
        **extra,
    }


def _imp(
    eid: str, pid: str, start: str, end: str, org: str, dx: str | None = None, **extra: Any
) -> dict[str, Any]:
    more: dict[str, Any] = {"serviceProvider": {"reference": f"Organization/{org}"}, **extra}
    if dx:
        more["reasonCode"] = [cc((ICD10, dx, dx))]
    return encounter(eid, pid, "IMP", f"2024-{start}T10:00:00Z", f"2024-{end}T12:00:00Z", **more)


def _org(oid: str, name: str) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": oid, "name": name}


RESOURCES: dict[str, list[dict[str, Any]]] = {
    "Patient": [
        _patient("pa"),
        _patient("pb"),
        _patient("pc", deceasedDateTime="2024-01-10T15:00:00Z"),
        _patient("pd"),
        _patient("pe"),
        _patient("pf"),
    ],
    "Organization": [_org("o1", "General Hospital"), _org("o2", "County Hospital")],
    "Coverage": [
        {
            "resourceType": "Coverage",
            "id": "cv-a",
            "status": "active",
            "beneficiary": {"reference": "Patient/pa"},
            "period": {"start": "2023-01-01"},
            "payor": [{"reference": "Organization/pay1", "display": "Acme Health"}],
        },
    ],
    "Encounter": [
        _imp("a1", "pa", "01-01", "01-05", "o1", "I50.9"),
        _imp("a2", "pa", "01-06", "01-08", "o2"),
        encounter("a-ed", "pa", "EMER", "2024-01-20T01:00:00Z", "2024-01-20T05:00:00Z"),
        _imp("a3", "pa", "02-07", "02-09", "o2"),
        _imp("a4", "pa", "02-10", "02-12", "o2"),
        _imp("b1", "pb", "01-01", "01-03", "o1", "I21.4"),
        _imp("b2", "pb", "02-03", "02-04", "o1"),
        encounter(
            "b-ed",
            "pb",
            "EMER",
            "2024-03-15T01:00:00Z",
            "2024-03-15T05:00:00Z",
            reasonCode=[cc((ICD10, "J18.9", "Pneumonia, unspecified organism"))],
        ),
        _imp("c1", "pc", "01-05", "01-10", "o1"),
        _imp(
            "d1",
            "pd",
            "03-01",
            "03-02",
            "o1",
            hospitalization={"dischargeDisposition": {"coding": [{"system": NUBC, "code": "07"}]}},
        ),
        _imp("d2", "pd", "03-10", "03-12", "o1", "J44.1"),
        _imp("e1", "pe", "04-01", "04-03", "o1", "J18.9"),
        _imp("e2", "pe", "04-20", "04-22", "o1", "Z51.11"),
        _imp(
            "e3",
            "pe",
            "05-01",
            "05-02",
            "o1",
            priority={"coding": [{"system": PRIORITY, "code": "EL", "display": "elective"}]},
        ),
        _imp("f1", "pf", "06-15", "06-20", "o1"),
        encounter("f-amb", "pf", "AMB", "2024-06-30T09:00:00Z", "2024-06-30T10:00:00Z"),
    ],
    "Condition": [
        {
            "resourceType": "Condition",
            "id": "cond-a3",
            "subject": {"reference": "Patient/pa"},
            "encounter": {"reference": "Encounter/a3"},
            "code": cc((ICD10, "J18.9", "Pneumonia, unspecified organism")),
            "recordedDate": "2024-02-07T11:00:00Z",
        },
    ],
}


def write_readmission_silver(tenant_root: Path) -> None:
    """Write the population as silver Delta tables under `<tenant_root>/silver/fhir/<Type>/`."""
    from deltalake import write_deltalake

    for rtype, resources in RESOURCES.items():
        table = silver_table([("ehr", r) for r in resources])
        write_deltalake(tenant_root / "silver" / "fhir" / rtype, table, mode="overwrite")
