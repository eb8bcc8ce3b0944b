"""A small, hand-written revenue-cycle silver lake for the rcm_* mart tests.

Where it came from: written by hand for these tests (no real or generated person), shaped as
the X12 mappings write silver (the contract in docs/revenue-cycle.md "What gold assumes about
silver": Claim from an 837, ExplanationOfBenefit per 835 CLP, PaymentReconciliation per 835
payment, ClaimResponse per 277 status). Ids are readable (`claim-C1`, `eob-C4` …) instead of
UUIDv5 so expected rows can be worked out by hand.

It goes through the real silver store (`medlake.silver.store.write`) in two batches, so the
history tables hold real versions: batch 1 is the first 837s, 835s and 277s; batch 2 brings a
reversal and its correction (C4), a replacement claim and its payment (C5), a void (C12) and a
second 277 status (C1).

| claim | payer | billing | what happens | state |
|---|---|---|---|---|
| C1 | payA | bp1 | 120.00 paid 90.00 (CO-45 28, OA-23 2); 277 A1 then F1 | paid |
| C2 | payB | bp2 | 150.00 denied CO-50 (claim level); 277 A2 | denied |
| C3 | payA | bp1 | institutional 250.00: paid 160, PR 40, CO-45 50.01 (one cent too much) | partially_paid |
| C4 | payA | bp1 | 300.00 paid 240; reversed (CLP02 22) and corrected to 200 + PR-1 40 | partially_paid |
| C5 | payB | bp2 | 100.00 denied CO-16; replaced (freq 7) at 110.00, paid 80 | paid |
| C6–C10 | A/B | bp1/bp2 | unpaid, 10 / 31 / 90 / 120 / 180 days old at 2024-06-30 | acknowledged, submitted, submitted, rejected (277 A3), submitted |
| C11 | payA | bp1 | an 835 for a claim not on file: paid 30.00 | paid |
| C12 | payA | bp1 | 75.00, then voided (freq 8) | voided |

Payments: EFT1 … EFT7; EFT3 carries a PLB L6 interest of -12.50 and EFT7 one of -5.25. The
latest date in the data is 2024-06-30 (C6's 277), the default as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlake.lake.paths import TenantLake
from medlake.silver.store import SilverRecord, write

TENANT = "t1"
SOURCE = "claims"
SYSTEM = "urn:medlake:claims"

CLAIM_ID = "https://medlake.dev/fhir/sid/patient-control-number"
PAYER_CLAIM = "https://medlake.dev/fhir/sid/payer-claim-control-number"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
CAS_GROUP = "https://x12.org/codes/claim-adjustment-group-codes"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
MEDLAKE_ADJUDICATION = "https://medlake.dev/fhir/adjudication"
NPI = "http://hl7.org/fhir/sid/us-npi"
CPT = "http://www.ama-assn.org/go/cpt"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SD = "https://medlake.dev/fhir/StructureDefinition"


def money(value: float) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


@dataclass(frozen=True)
class Line:
    code: str
    charge: float
    serviced: str
    units: float = 1
    modifiers: tuple[str, ...] = ()
    revenue: str | None = None


def claim(
    cid: str,
    *,
    created: str,
    payer: str,
    provider: str,
    patient: str,
    lines: list[Line],
    billable: tuple[str, str],
    freq: str = "1",
    status: str = "active",
    institutional: bool = False,
    replaces: str | None = None,
) -> dict[str, Any]:
    """An 837 claim as x12_837 maps it (billing provider `Organization/…` or `Practitioner/…`)."""
    rendering = "Practitioner/pr1" if provider.startswith("Organization/") else provider
    identifiers = [{"system": CLAIM_ID, "value": cid}]
    if replaces:
        identifiers.append({"system": PAYER_CLAIM, "value": replaces})
    items = []
    for n, ln in enumerate(lines, 1):
        item: dict[str, Any] = {
            "sequence": n,
            "productOrService": coding(CPT, ln.code),
            "servicedDate": ln.serviced,
            "quantity": {"value": ln.units},
            "net": money(ln.charge),
            "diagnosisSequence": [1],
            "locationCodeableConcept": coding(POS, "11"),
        }
        if ln.modifiers:
            item["modifier"] = [coding(CPT, m) for m in ln.modifiers]
        if ln.revenue:
            item["revenue"] = coding(REVENUE, ln.revenue)
        items.append(item)
    return {
        "resourceType": "Claim",
        "id": f"claim-{cid}",
        "extension": [{"url": f"{SD}/claim-frequency", "valueCode": freq}],
        "identifier": identifiers,
        "status": status,
        "type": coding(
            "http://terminology.hl7.org/CodeSystem/claim-type",
            "institutional" if institutional else "professional",
        ),
        "use": "claim",
        "patient": {"reference": f"Patient/{patient}"},
        "billablePeriod": {"start": billable[0], "end": billable[1]},
        "created": created,
        "insurer": {"reference": f"Organization/{payer}"},
        "provider": {"reference": provider},
        "priority": coding("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": rendering},
                "role": coding(
                    "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "performing"
                ),
            }
        ],
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": coding(ICD10CM, "E119"),
                "type": [
                    coding("http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "principal")
                ],
            }
        ],
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/cov-{patient}"}}
        ],
        "item": items,
        "total": money(sum(ln.charge for ln in lines)),
    }


Cas = tuple[str, str, float]  # group, CARC, amount


@dataclass(frozen=True)
class Svc:
    code: str
    submitted: float
    paid: float
    cas: tuple[Cas, ...] = ()
    allowed: float | None = None


def _cas(group: str, reason: str, amount: float) -> dict[str, Any]:
    return {
        "category": coding(CAS_GROUP, group),
        "reason": coding(CARC, reason),
        "amount": money(amount),
    }


def eob(
    cid: str,
    *,
    payer: str,
    code: str,
    paid_on: str,
    trace: str,
    icn: str,
    patient: str,
    charge: float,
    paid: float,
    pr: float,
    lines: list[Svc],
    claim_cas: tuple[Cas, ...] = (),
) -> dict[str, Any]:
    """One 835 CLP as x12_835 maps it (a version of `eob-<CLP01>`)."""
    items = []
    for n, s in enumerate(lines, 1):
        adjudication = [
            {"category": coding(ADJUDICATION, "submitted"), "amount": money(s.submitted)},
            {"category": coding(ADJUDICATION, "benefit"), "amount": money(s.paid)},
        ]
        if s.allowed is not None:
            adjudication.append(
                {"category": coding(ADJUDICATION, "eligible"), "amount": money(s.allowed)}
            )
        adjudication += [_cas(*c) for c in s.cas]
        items.append(
            {
                "sequence": n,
                "productOrService": coding(CPT, s.code),
                "servicedDate": paid_on,
                "adjudication": adjudication,
            }
        )
    body: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": f"eob-{cid}",
        "extension": [{"url": f"{SD}/claim-status-code", "valueCode": code}],
        "identifier": [
            {"system": CLAIM_ID, "value": cid},
            {"system": PAYER_CLAIM, "value": icn},
        ],
        "status": "cancelled" if code == "22" else "active",
        "type": coding("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/{patient}"},
        "created": paid_on,
        "insurer": {"reference": f"Organization/{payer}"},
        "provider": {"reference": "Organization/bp1" if payer == "payA" else "Practitioner/bp2"},
        "claim": {"identifier": {"system": CLAIM_ID, "value": cid}},
        "outcome": "complete",
        "total": [
            {"category": coding(ADJUDICATION, "submitted"), "amount": money(charge)},
            {"category": coding(ADJUDICATION, "benefit"), "amount": money(paid)},
            {
                "category": coding(MEDLAKE_ADJUDICATION, "patient-responsibility"),
                "amount": money(pr),
            },
        ],
        "item": items,
        "payment": {
            "type": coding("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "ACH"),
            "date": paid_on,
            "amount": money(paid),
            "identifier": {"value": trace},
        },
    }
    if code == "4":
        body["disposition"] = "Denied"
    if claim_cas:
        body["adjudication"] = [_cas(*c) for c in claim_cas]
    return body


def payment(
    trace: str,
    *,
    payer: str,
    paid_on: str,
    claims: list[tuple[str, float]],
    plb: tuple[tuple[str, str, float], ...] = (),
) -> dict[str, Any]:
    """One 835 payment (BPR/TRN): a detail per CLP and per PLB adjustment; BPR02 = Σ CLP04 − Σ PLB."""
    details: list[dict[str, Any]] = [
        {
            "type": coding("http://terminology.hl7.org/CodeSystem/payment-type", "payment"),
            "request": {"identifier": {"system": CLAIM_ID, "value": cid}},
            "amount": money(amount),
        }
        for cid, amount in claims
    ]
    details += [
        {
            "type": coding("https://medlake.dev/fhir/plb-adjustment-reason", reason),
            "identifier": {"value": ref},
            "amount": money(amount),
        }
        for reason, ref, amount in plb
    ]
    total = round(sum(a for _, a in claims) - sum(a for _, _, a in plb), 2)
    return {
        "resourceType": "PaymentReconciliation",
        "id": f"pay-{trace}",
        "status": "active",
        "created": paid_on,
        "paymentIssuer": {"reference": f"Organization/{payer}"},
        "requestor": {"reference": "Organization/bp1" if payer == "payA" else "Practitioner/bp2"},
        "paymentDate": paid_on,
        "paymentAmount": money(total),
        "paymentIdentifier": {"value": trace},
        "detail": details,
    }


def claim_response(
    cid: str, category: str, code: str, on: str, payer: str, patient: str
) -> dict[str, Any]:
    """One 277 STC status as a version of `cr-<CLM01>`."""
    return {
        "resourceType": "ClaimResponse",
        "id": f"cr-{cid}",
        "extension": [
            {"url": f"{SD}/claim-status-category", "valueCode": category},
            {"url": f"{SD}/claim-status-code", "valueCode": code},
        ],
        "identifier": [{"system": CLAIM_ID, "value": cid}],
        "status": "active",
        "type": coding("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/{patient}"},
        "created": on,
        "insurer": {"reference": f"Organization/{payer}"},
        "request": {"identifier": {"system": CLAIM_ID, "value": cid}},
        "outcome": "queued" if category.startswith("A") else "complete",
    }


def organization(oid: str, name: str, npi: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Organization", "id": oid, "active": True, "name": name}
    if npi:
        out["identifier"] = [{"system": NPI, "value": npi}]
    return out


def practitioner(pid: str, given: str, family: str, npi: str) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "active": True,
        "identifier": [{"system": NPI, "value": npi}],
        "name": [{"family": family, "given": [given]}],
    }


PARTIES = [
    organization("payA", "Acme Health"),
    organization("payB", "Beta Care"),
    organization("bp1", "Lakeside Clinic", "1999999984"),
    practitioner("pr1", "Ronald", "Bone", "1234567893"),
    practitioner("bp2", "Sam", "Solo", "1245319599"),
]

A, B = "Organization/bp1", "Practitioner/bp2"


def _unpaid(
    cid: str, created: str, served: str, payer: str, provider: str, patient: str, code: str,
    charge: float,
) -> dict[str, Any]:  # fmt: skip
    """A claim of one line that nobody answers."""
    return claim(cid, created=created, payer=payer, provider=provider, patient=patient,
                 lines=[Line(code, charge, served)], billable=(served, served))  # fmt: skip


BATCH_1: list[dict[str, Any]] = [
    *PARTIES,
    claim("C1", created="2024-01-05", payer="payA", provider=A, patient="pt1", billable=("2024-01-03", "2024-01-03"),
          lines=[Line("99213", 100.00, "2024-01-03"), Line("36415", 20.00, "2024-01-03")]),
    claim("C2", created="2024-02-01", payer="payB", provider=B, patient="pt2", billable=("2024-01-30", "2024-01-30"),
          lines=[Line("99214", 150.00, "2024-01-30")]),
    claim("C3", created="2024-02-20", payer="payA", provider=A, patient="pt3", billable=("2024-02-12", "2024-02-14"),
          institutional=True,
          lines=[Line("99284", 200.00, "2024-02-12", revenue="0450"), Line("81002", 50.00, "2024-02-13", units=2, revenue="0300")]),
    claim("C4", created="2024-01-10", payer="payA", provider=A, patient="pt1", billable=("2024-01-08", "2024-01-08"),
          lines=[Line("99215", 300.00, "2024-01-08")]),
    claim("C5", created="2024-02-05", payer="payB", provider=B, patient="pt2", billable=("2024-02-01", "2024-02-01"),
          lines=[Line("99213", 100.00, "2024-02-01")]),
    _unpaid("C6", "2024-06-20", "2024-06-18", "payA", A, "pt3", "99212", 50.00),
    _unpaid("C7", "2024-05-30", "2024-05-28", "payB", B, "pt1", "99212", 60.00),
    _unpaid("C8", "2024-04-01", "2024-03-28", "payA", A, "pt2", "99213", 70.00),
    _unpaid("C9", "2024-03-02", "2024-02-28", "payB", B, "pt3", "99213", 80.00),
    _unpaid("C10", "2024-01-02", "2023-12-29", "payA", A, "pt1", "99214", 90.00),
    _unpaid("C12", "2024-04-15", "2024-04-12", "payA", A, "pt3", "99213", 75.00),
    eob("C1", payer="payA", code="1", paid_on="2024-01-25", trace="EFT1", icn="ICN1", patient="pt1",
        charge=120.00, paid=90.00, pr=0,
        lines=[Svc("99213", 100.00, 75.00, (("CO", "45", 25.00),), allowed=75.00),
               Svc("36415", 20.00, 15.00, (("CO", "45", 3.00), ("OA", "23", 2.00)), allowed=15.00)]),
    eob("C2", payer="payB", code="4", paid_on="2024-02-20", trace="EFT3", icn="ICN2", patient="pt2",
        charge=150.00, paid=0, pr=0, lines=[Svc("99214", 150.00, 0)], claim_cas=(("CO", "50", 150.00),)),
    eob("C3", payer="payA", code="1", paid_on="2024-03-01", trace="EFT5", icn="ICN3", patient="pt3",
        charge=250.00, paid=160.00, pr=40.00,
        lines=[Svc("99284", 200.00, 140.00, (("CO", "45", 30.00), ("PR", "2", 30.00)), allowed=170.00),
               Svc("81002", 50.00, 20.00, (("CO", "45", 20.01), ("PR", "3", 10.00)), allowed=30.00)]),
    eob("C4", payer="payA", code="1", paid_on="2024-01-30", trace="EFT2", icn="ICN4", patient="pt1",
        charge=300.00, paid=240.00, pr=0,
        lines=[Svc("99215", 300.00, 240.00, (("CO", "45", 60.00),), allowed=240.00)]),
    eob("C5", payer="payB", code="4", paid_on="2024-02-25", trace="EFT4", icn="ICN5A", patient="pt2",
        charge=100.00, paid=0, pr=0, lines=[Svc("99213", 100.00, 0)], claim_cas=(("CO", "16", 100.00),)),
    eob("C11", payer="payA", code="1", paid_on="2024-04-10", trace="EFT7", icn="ICN11", patient="pt2",
        charge=40.00, paid=30.00, pr=0, lines=[Svc("99213", 40.00, 30.00, (("CO", "45", 10.00),))]),
    payment("EFT1", payer="payA", paid_on="2024-01-25", claims=[("C1", 90.00)]),
    payment("EFT2", payer="payA", paid_on="2024-01-30", claims=[("C4", 240.00)]),
    payment("EFT3", payer="payB", paid_on="2024-02-20", claims=[("C2", 0)], plb=(("L6", "EFT3", -12.50),)),
    payment("EFT4", payer="payB", paid_on="2024-02-25", claims=[("C5", 0)]),
    payment("EFT7", payer="payA", paid_on="2024-04-10", claims=[("C11", 30.00)], plb=(("L6", "EFT7", -5.25),)),
    claim_response("C1", "A1", "20", "2024-01-07", "payA", "pt1"),
    claim_response("C2", "A2", "20", "2024-02-03", "payB", "pt2"),
    claim_response("C6", "A1", "19", "2024-06-30", "payA", "pt3"),
    claim_response("C9", "A3", "21", "2024-03-04", "payB", "pt3"),
]  # fmt: skip

BATCH_2: list[dict[str, Any]] = [
    # the reversal (CLP02 22, amounts negated) and the correction, in file order
    eob("C4", payer="payA", code="22", paid_on="2024-03-01", trace="EFT5", icn="ICN4", patient="pt1",
        charge=-300.00, paid=-240.00, pr=0,
        lines=[Svc("99215", -300.00, -240.00, (("CO", "45", -60.00),), allowed=-240.00)]),
    eob("C4", payer="payA", code="1", paid_on="2024-03-01", trace="EFT5", icn="ICN4B", patient="pt1",
        charge=300.00, paid=200.00, pr=40.00,
        lines=[Svc("99215", 300.00, 200.00, (("CO", "45", 60.00), ("PR", "1", 40.00)), allowed=240.00)]),
    claim("C5", created="2024-03-05", payer="payB", provider=B, patient="pt2", billable=("2024-02-01", "2024-02-01"),
          freq="7", replaces="ICN5A", lines=[Line("99213", 110.00, "2024-02-01", modifiers=("25",))]),
    eob("C5", payer="payB", code="1", paid_on="2024-03-25", trace="EFT6", icn="ICN5B", patient="pt2",
        charge=110.00, paid=80.00, pr=0, lines=[Svc("99213", 110.00, 80.00, (("CO", "45", 30.00),))]),
    claim("C12", created="2024-04-20", payer="payA", provider=A, patient="pt3", billable=("2024-04-12", "2024-04-12"),
          freq="8", status="cancelled", lines=[Line("99213", 75.00, "2024-04-12")]),
    payment("EFT5", payer="payA", paid_on="2024-03-01", claims=[("C4", -240.00), ("C4", 200.00), ("C3", 160.00)]),
    payment("EFT6", payer="payB", paid_on="2024-03-25", claims=[("C5", 80.00)]),
    claim_response("C1", "F1", "65", "2024-01-26", "payA", "pt1"),
]  # fmt: skip


def _patient_of(resource: dict[str, Any]) -> str | None:
    ref = str(resource.get("patient", {}).get("reference", ""))
    return ref.removeprefix("Patient/") if ref.startswith("Patient/") else None


def _records(name: str, resources: list[dict[str, Any]]) -> list[SilverRecord]:
    return [
        SilverRecord(
            id=r["id"],
            resource_type=r["resourceType"],
            resource=dict(r),  # the store adds meta to the dict it gets
            patient_id=_patient_of(r),
            source=SOURCE,
            source_system=SYSTEM,
            source_id=r["id"],
            object_sha256=(name * 64)[:64],
            object_name=f"{name}.x12",
            record_index=i,
            batch_id=f"batch-{name}",
        )
        for i, r in enumerate(resources)
    ]


def write_rcm_silver(lake_root: Path) -> TenantLake:
    """Write both batches through the silver store into `<lake_root>/t1/`; returns the lake."""
    lake = TenantLake.open(str(lake_root), TENANT)
    write(lake, TENANT, _records("a", BATCH_1))
    write(lake, TENANT, _records("b", BATCH_2))
    return lake
