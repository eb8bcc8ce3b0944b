"""835 (X221 claim payment/advice) → an ExplanationOfBenefit per claim (CLP), a
PaymentReconciliation per payment (BPR/TRN) with the provider-level adjustments (PLB), a
Patient per NM1*QC, and the payer and payee Organizations.

Keys (each resource's source id):

- payer id: N1*PR N104, else REF*2U (the payer id the 837's NM1*PR NM109 carries), else TRN03;
  the payer Organization is `payer|<payer id>`;
- payee (N1*PE) Organization: the NPI (N103 = XX), else `<N103>|<N104>`, else `name|<N102>|`
  — the 837 billing provider's key;
- ExplanationOfBenefit: `<payer id>|<CLP01>`, so an original, its reversal (CLP02 = 22) and
  its correction are versions of one EOB, in file order (`SetMapper.add_version`);
- Patient: `<payer id>|<NM109>` of NM1*QC (the 837 subscriber's key), else a patient known by
  name only: `<payer id>|<NM103>|<NM104>|<CLP01>`;
- PaymentReconciliation: `<payer id>|<TRN02>`.

Balancing (`SetMapper.balance`, a data-quality result, not a failure): per claim `CLP03 -
CLP04 = sum(CAS)` (claim- and line-level CAS), per line `SVC02 - SVC03 = sum(line CAS)`, per
payment `BPR02 = sum(CLP04) - sum(PLB)`. Subjects are `claim <CLP01>`, `line <n> of claim
<CLP01>` and `payment <TRN02>`; a CLP01 met again in the same set (a reversal and its
correction) gets `#2`, `#3` … after it, so each check keeps its own row.

The EOB's insurance names the member's Coverage by its member id (NM1*IL, else NM1*QC) — a
logical reference: the 837 makes the Coverage with that identifier, the 835 does not (it may
arrive without the claim, and a second, poorer Coverage would alternate versions with the
837's). For the same reason the payer Organization carries only its id, type and name (what
the 837's has). A line sent as `SVC*HC*<charge>*<paid>*<revenue code>` (no procedure, as the
synthetic institutional remittances do) is read as billed by its revenue code (SVC04).

Not mapped: BPR bank details, CUR, REF*EV/F2, DTM*405 (used only when BPR16 is empty), 1000A
N3/N4/PER, RDM; TS3/TS2 provider summaries; CLP06 (filing indicator), CLP09 (frequency),
CLP10–CLP14 (DRG and weights); NM1*IL (except its member id), NM1*74/82/TT/PR/GB;
MIA/MOA amounts (their remark codes are mapped); REF and AMT at claim level; DTM*036/050/
009; PER; SVC06 (the procedure as submitted), SVC07; REF and AMT at line level other than
AMT*B6; LQ*RX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_common import (
    CARC_SYSTEM,
    CAS_GROUP_SYSTEM,
    CLAIM_ID_SYSTEM,
    HL7_TERMINOLOGY,
    NPI_SYSTEM,
    PAYER_CLAIM_SYSTEM,
    RARC_SYSTEM,
    REVENUE,
    TAX_ID_SYSTEM,
    SetMapper,
    X12ValueError,
    concept,
    decimal,
    group_date,
    human_name,
    member_identifier,
    payer_organization,
    postal_address,
    product_coding,
    provider_key,
    segment_amount,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import Loop, Segment

EXT = "https://medlake.dev/fhir/StructureDefinition"
ADJUDICATION = f"{HL7_TERMINOLOGY}/adjudication"
MEDLAKE_ADJUDICATION = "https://medlake.dev/fhir/adjudication"
"""Adjudication categories FHIR has no code for: `patient-responsibility`, `remark`."""
PAYMENT_METHOD_SYSTEM = "https://medlake.dev/fhir/x12-payment-method"
"""BPR04 (X12 element 591: ACH, BOP, CHK, FWT, NON) as EOB.payment.type."""
PAYMENT_TRACE_SYSTEM = "https://medlake.dev/fhir/sid/payment-trace-number"
"""TRN02, the check or EFT trace number: EOB.payment.identifier and the PaymentReconciliation's."""
PLB_SYSTEM = "https://medlake.dev/fhir/plb-adjustment-reason"
CLAIM_TYPE = f"{HL7_TERMINOLOGY}/claim-type"

CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
"""CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied, 19/20/21 processed and
forwarded, 22 reversal of a previous payment, 23 not our claim, 25 predetermination only."""
CAS_GROUPS = frozenset({"CO", "OA", "PI", "PR"})
PLB_REASONS = frozenset({
    "50", "51", "72", "90", "AH", "AM", "AP", "B2", "B3", "BD", "BN", "C5", "CR", "CS", "CT", "CV",
    "CW", "DM", "E3", "FB", "FC", "GO", "HM", "IP", "IR", "IS", "J1", "L3", "L6", "LE", "LS", "OA",
    "OB", "PI", "PL", "RA", "RE", "SL", "TL", "WO", "WU",
})  # fmt: skip
"""PLB03-1 provider adjustment reason codes (X12 element 426 in 5010)."""


@dataclass
class Remit:
    """The payment's header (who pays whom, when, how much) and its claims, in file order."""

    payer_id: str
    payer: dict[str, Any]
    payee: dict[str, Any] | None
    created: str | None
    """BPR16, else DTM*405, else GS04."""
    paid_on: str | None
    """BPR16 (check issue or EFT effective date)."""
    trace: str | None
    bpr: Segment | None
    claims: list[Paid] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    """CLP01 → how many times it was met in the set (for the balance subjects)."""


@dataclass(frozen=True)
class Paid:
    """What the PaymentReconciliation needs of one claim."""

    pcn: str
    amount: Decimal
    money: dict[str, Any] | None
    eob: str


def map_set(m: SetMapper) -> None:
    remit = header(m)
    for loop in m.tset.find_all("2100"):
        claim(m, remit, loop)
    payment(m, remit)


# -- header: BPR, TRN, payer (1000A) and payee (1000B) ------------------------------------------
def header(m: SetMapper) -> Remit:
    root = m.tset.loops
    bpr, trn = root.segment("BPR"), root.segment("TRN")
    payer_loop, payee_loop = m.tset.find("1000A"), m.tset.find("1000B")
    n1 = payer_loop.trigger if payer_loop is not None else None
    ref_2u = next((r.get(2) for r in payer_loop.all("REF") if r.get(1) == "2U"), None) if payer_loop is not None else None
    pid = (n1.get(4) if n1 is not None else None) or ref_2u or (trn.get(3) if trn is not None else None)
    if not pid:
        name = n1.get(2) if n1 is not None else None
        m.problem(payer_loop, "N104", "no payer id: N1*PR N104, REF*2U and TRN03 are all empty; the payer is keyed by its name")
        pid = f"name|{name or ''}"
    payer = payer_organization(m, pid, n1.get(2) if n1 is not None else None)
    paid_on = m.date(None, "BPR16", bpr.get(16)) if bpr is not None else None
    dtm405 = next((d for d in root.all("DTM") if d.get(1) == "405"), None)
    created = paid_on or (m.date(None, "DTM02", dtm405.get(2)) if dtm405 is not None else None) or group_date(m)
    trace = trn.get(2) if trn is not None else None
    return Remit(pid, payer, payee(m, payee_loop), created, paid_on, trace, bpr)


def payee(m: SetMapper, loop: Loop | None) -> dict[str, Any] | None:
    """N1*PE → Organization (key as the 837 billing provider's): NPI, tax id (N103 FI or
    REF*TJ), name, address."""
    if loop is None:
        return None
    n1 = loop.trigger
    qualifier, ident, name = n1.get(3), n1.get(4), n1.get(2)
    key = "835|" + provider_key(qualifier, ident, name)  # the payee as the 835 names it (see `patient`)
    if m.find("Organization", key) is None:
        identifiers = []
        if qualifier == "XX" and ident:
            identifiers.append({"system": NPI_SYSTEM, "value": ident})
        taxes = [ident] if qualifier == "FI" and ident else []
        taxes += [r.get(2) or "" for r in loop.all("REF") if r.get(1) == "TJ" and r.get(2)]
        identifiers += [{"system": TAX_ID_SYSTEM, "value": t} for t in dict.fromkeys(taxes)]
        body: dict[str, Any] = {}
        if identifiers:
            body["identifier"] = identifiers
        body["type"] = [concept(f"{HL7_TERMINOLOGY}/organization-type", "prov", "Healthcare Provider")]
        if name:
            body["name"] = name
        addr = postal_address(loop.segment("N3"), loop.segment("N4"), "work")
        if addr:
            body["address"] = [addr]
        m.add("Organization", key, body)
    return m.reference("Organization", key, name)


# -- claims --------------------------------------------------------------------------------------
def claim(m: SetMapper, remit: Remit, loop: Loop) -> None:
    """One CLP → a version of its ExplanationOfBenefit, and its balancing checks."""
    clp = loop.trigger
    pcn = clp.get(1)
    if not pcn:
        m.problem(loop, "CLP01", "CLP01 (patient control number) is empty: the claim is not mapped")
        return
    status = clp.get(2) or ""
    if status not in CLAIM_STATUSES:
        m.problem(loop, "CLP02", f"`{status}` is not a claim status code: expected one of 1, 2, 3, 4, 19, 20, 21, 22, 23, 25")
    n = remit.seen[pcn] = remit.seen.get(pcn, 0) + 1
    subject = f"claim {pcn}" if n == 1 else f"claim {pcn} #{n}"
    patient_key = patient(m, remit, loop, pcn)
    lines = loop.find_all("2110")
    items, line_cas = [], Decimal(0)
    for seq, line in enumerate(lines, 1):
        item, cas_total = service_line(m, line, seq, subject)
        items.append(item)
        line_cas += cas_total
    claim_adjudication, claim_cas = adjustments(m, loop)
    paid = m.money(loop, "CLP04", clp.get(4))
    body = eob(m, remit, loop, lines, status, patient_key)
    if items:
        body["item"] = items
    claim_adjudication += claim_remarks(loop)
    if claim_adjudication:
        body["adjudication"] = claim_adjudication
    total = totals(m, loop, paid)
    if total:
        body["total"] = total
    pay = eob_payment(remit, paid)
    if pay:
        body["payment"] = pay
    ref = m.add_version("ExplanationOfBenefit", f"{remit.payer_id}|{pcn}", body, patient_key=patient_key)
    expected = segment_amount(clp, 3) - segment_amount(clp, 4)
    m.balance("CLP03 - CLP04 = sum(CAS)", subject, expected, claim_cas + line_cas)
    remit.claims.append(Paid(pcn, segment_amount(clp, 4), paid, ref))


def eob(m: SetMapper, remit: Remit, loop: Loop, lines: list[Loop], status: str, patient_key: str) -> dict[str, Any]:
    """The EOB's claim-level elements up to its insurance."""
    clp = loop.trigger
    pcn = clp.get(1) or ""
    body: dict[str, Any] = {}
    if status:
        body["extension"] = [{"url": f"{EXT}/claim-status-code", "valueCode": status}]
    body["identifier"] = [{"system": CLAIM_ID_SYSTEM, "value": pcn}]
    if clp.get(7):
        body["identifier"].append({"system": PAYER_CLAIM_SYSTEM, "value": clp.get(7)})
    body["status"] = "cancelled" if status == "22" else "active"
    body["type"] = concept(CLAIM_TYPE, claim_type(loop, lines))
    body["use"] = "claim"
    body["patient"] = m.reference("Patient", patient_key)
    billable = statement_period(m, loop)
    if billable:
        body["billablePeriod"] = billable
    if remit.created:
        body["created"] = remit.created
    body["insurer"] = remit.payer
    if remit.payee is not None:
        body["provider"] = remit.payee
    body["claim"] = {"identifier": {"system": CLAIM_ID_SYSTEM, "value": pcn}}
    body["outcome"] = "complete"
    if status == "4":
        body["disposition"] = "Denied"
    body["insurance"] = [{"focal": True, "coverage": coverage_reference(m, remit, loop)}]
    return body


def totals(m: SetMapper, loop: Loop, paid: dict[str, Any] | None) -> list[dict[str, Any]]:
    """CLP03 submitted, CLP04 benefit, CLP05 patient responsibility."""
    clp = loop.trigger
    out = []
    for system, code, amount in (
        (ADJUDICATION, "submitted", m.money(loop, "CLP03", clp.get(3))),
        (ADJUDICATION, "benefit", paid),
        (MEDLAKE_ADJUDICATION, "patient-responsibility", m.money(loop, "CLP05", clp.get(5))),
    ):
        if amount is not None:
            out.append({"category": concept(system, code), "amount": amount})
    return out


def eob_payment(remit: Remit, paid: dict[str, Any] | None) -> dict[str, Any]:
    """BPR04 method, BPR16 date, CLP04 amount, TRN02 trace."""
    pay: dict[str, Any] = {}
    method = remit.bpr.get(4) if remit.bpr is not None else None
    if method:
        pay["type"] = concept(PAYMENT_METHOD_SYSTEM, method)
    if remit.paid_on:
        pay["date"] = remit.paid_on
    if paid is not None:
        pay["amount"] = paid
    if remit.trace:
        pay["identifier"] = {"system": PAYMENT_TRACE_SYSTEM, "value": remit.trace}
    return pay


def patient(m: SetMapper, remit: Remit, loop: Loop, pcn: str) -> str:
    """NM1*QC → Patient; its key."""
    qc = next((s for s in loop.all("NM1") if s.get(1) == "QC"), None)
    if qc is None:
        m.problem(loop, "NM1", "NM1*QC (patient name) is missing: the claim's Patient has no name")
    member = qc.get(9) if qc is not None else None
    # the remittance's own view of the patient (name and member id only): keyed apart from the
    # 837's fuller Patient so the two feeds do not overwrite each other version after version;
    # the patient index (silver identity) links them by member id
    if member:
        key = f"835|{remit.payer_id}|{member}"
    else:
        last, first = (qc.get(3), qc.get(4)) if qc is not None else (None, None)
        key = f"835|{remit.payer_id}|{last or ''}|{first or ''}|{pcn}"
    body: dict[str, Any] = {}
    if member:
        body["identifier"] = [member_identifier(remit.payer_id, member)]
    name = human_name(qc) if qc is not None and qc.get(2) != "2" else None
    if name:
        body["name"] = [{"use": "official", **name}]
    m.add("Patient", key, body)
    return key


def coverage_reference(m: SetMapper, remit: Remit, loop: Loop) -> dict[str, Any]:
    """The member's Coverage, by its member id (NM1*IL's, else NM1*QC's): a logical reference
    (the 837 makes the Coverage, with this identifier; the 835 may arrive without it)."""
    nm1s = {s.get(1): s for s in reversed(loop.all("NM1"))}
    for role in ("IL", "QC"):
        seg = nm1s.get(role)
        member = seg.get(9) if seg is not None else None
        if member:
            ident = member_identifier(remit.payer_id, member)
            return {"type": "Coverage", "identifier": {"system": ident["system"], "value": member}}
    return {"display": "no member id in the 835 (NM1*IL and NM1*QC NM109 are empty)"}


def claim_type(loop: Loop, lines: list[Loop]) -> str:
    """`oral` with CDT lines (SVC01-1 AD); `institutional` with MIA (inpatient) or revenue codes
    (SVC01-1 NU or SVC04); else `professional`."""
    svcs = [line.trigger for line in lines]
    if any(s.get(1, 1) == "AD" for s in svcs):
        return "oral"
    if loop.segment("MIA") is not None or any(s.get(1, 1) == "NU" or s.get(4) for s in svcs):
        return "institutional"
    return "professional"


def statement_period(m: SetMapper, loop: Loop) -> dict[str, str] | None:
    """DTM*232 / DTM*233 (claim statement period start / end) → billablePeriod."""
    out = {}
    for dtm in loop.all("DTM"):
        qualifier = dtm.get(1)
        if qualifier in ("232", "233"):
            value = m.date(loop, "DTM02", dtm.get(2))
            if value:
                out["start" if qualifier == "232" else "end"] = value
    return out or None


def claim_remarks(loop: Loop) -> list[dict[str, Any]]:
    """MOA03–MOA07 and MIA05, MIA20–MIA24 (claim payment remark codes) → remark adjudications."""
    codes: list[str] = []
    moa, mia = loop.segment("MOA"), loop.segment("MIA")
    if moa is not None:
        codes += [c for c in (moa.get(n) for n in range(3, 8)) if c]
    if mia is not None:
        codes += [c for c in (mia.get(n) for n in (5, 20, 21, 22, 23, 24)) if c]
    return [remark(code) for code in codes]


def remark(code: str) -> dict[str, Any]:
    return {"category": concept(MEDLAKE_ADJUDICATION, "remark"), "reason": concept(RARC_SYSTEM, code)}


# -- lines ----------------------------------------------------------------------------------------
def service_line(m: SetMapper, line: Loop, seq: int, subject: str) -> tuple[dict[str, Any], Decimal]:
    """One SVC → an EOB item; the sum of its CAS amounts. Checks SVC02 - SVC03 = sum(line CAS)."""
    svc = line.trigger
    item: dict[str, Any] = {"sequence": seq}
    coding = product_coding(svc.get(1, 1), svc.get(1, 2))
    if svc.get(4):
        item["revenue"] = concept(REVENUE, svc.get(4) or "")
    if coding is None and svc.get(4):  # a line billed by revenue code only, sent as `HC` + SVC04
        coding = product_coding("NU", svc.get(4))
    if coding is None:
        m.problem(line, "SVC01-2", "SVC01 has no procedure code and SVC04 no revenue code: the item's productOrService says so")
        item["productOrService"] = {"text": "not sent (SVC01-2 and SVC04 empty)"}
    else:
        item["productOrService"] = {"coding": [coding]}
    modifiers = [c for c in (svc.get(1, k) for k in range(3, 7)) if c]
    if modifiers:
        item["modifier"] = [{"coding": [{"code": c}]} for c in modifiers]
    serviced(m, line, item)
    units = number(m, line, "SVC05", svc.get(5))
    if units is not None:
        item["quantity"] = {"value": units}
    adjudication = [
        {"category": concept(ADJUDICATION, code), "amount": amount}
        for code, element, text in (
            ("submitted", "SVC02", svc.get(2)),
            ("benefit", "SVC03", svc.get(3)),
            *(("eligible", "AMT02", a.get(2)) for a in line.all("AMT") if a.get(1) == "B6"),
        )
        if (amount := m.money(line, element, text)) is not None
    ]
    cas, cas_total = adjustments(m, line)
    adjudication += cas
    adjudication += [remark(lq.get(2) or "") for lq in line.all("LQ") if lq.get(1) == "HE" and lq.get(2)]
    if adjudication:
        item["adjudication"] = adjudication
    expected = segment_amount(svc, 2) - segment_amount(svc, 3)
    m.balance("SVC02 - SVC03 = sum(line CAS)", f"line {seq} of {subject}", expected, cas_total)
    return item, cas_total


def serviced(m: SetMapper, line: Loop, item: dict[str, Any]) -> None:
    """DTM*472 → servicedDate; DTM*150/151 (service period start/end) → servicedPeriod."""
    period = {}
    for dtm in line.all("DTM"):
        qualifier = dtm.get(1)
        if qualifier not in ("472", "150", "151"):
            continue
        value = m.date(line, "DTM02", dtm.get(2))
        if value is None:
            continue
        if qualifier == "472":
            item["servicedDate"] = value
        else:
            period["start" if qualifier == "150" else "end"] = value
    if period and "servicedDate" not in item:
        item["servicedPeriod"] = period


def number(m: SetMapper, loop: Loop, element: str, text: str | None) -> int | float | None:
    """A quantity (R type) as a JSON number; anything else is a problem."""
    try:
        value = decimal(text)
    except X12ValueError as err:
        m.problem(loop, element, str(err))
        return None
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def adjustments(m: SetMapper, loop: Loop) -> tuple[list[dict[str, Any]], Decimal]:
    """The loop's own CAS segments → adjudications; the sum of their amounts.

    CAS01 is the group (CO, OA, PI, PR), then up to six triplets: reason (CARC), amount,
    quantity (CAS02–04, 05–07 … 17–19).
    """
    out: list[dict[str, Any]] = []
    total = Decimal(0)
    for cas in loop.all("CAS"):
        group = cas.get(1) or ""
        if group not in CAS_GROUPS:
            m.problem(loop, "CAS01", f"`{group}` is not a claim adjustment group code: expected CO, OA, PI or PR (CR was removed in 5010)")
        for k in range(2, 20, 3):
            reason, text = cas.get(k), cas.get(k + 1)
            if not reason and not text:
                continue
            amount = m.money(loop, f"CAS{k + 1:02d}", text)
            if amount is None:
                if text is None:
                    m.problem(loop, f"CAS{k + 1:02d}", f"reason `{reason}` has no amount: the adjustment is not mapped")
                continue
            total += segment_amount(cas, k + 1)
            adj: dict[str, Any] = {"category": concept(CAS_GROUP_SYSTEM, group)}
            if reason:
                adj["reason"] = concept(CARC_SYSTEM, reason)
            else:
                m.problem(loop, f"CAS{k:02d}", "an adjustment amount has no reason code")
            adj["amount"] = amount
            quantity = number(m, loop, f"CAS{k + 2:02d}", cas.get(k + 2))
            if quantity is not None:
                adj["value"] = quantity
            out.append(adj)
    return out, total


# -- the payment -----------------------------------------------------------------------------------
def payment(m: SetMapper, remit: Remit) -> None:
    """BPR/TRN → PaymentReconciliation (a detail per claim and per PLB adjustment); checks
    BPR02 = sum(CLP04) - sum(PLB)."""
    bpr = remit.bpr
    if bpr is None:
        m.problem(None, "BPR", "BPR (financial information) is missing: no PaymentReconciliation")
        return
    trace = remit.trace
    if not trace:
        m.problem(None, "TRN02", "TRN02 (check or EFT trace number) is empty: the payment is keyed by the set control number")
    details: list[dict[str, Any]] = []
    for paid in remit.claims:
        detail: dict[str, Any] = {"type": concept(f"{HL7_TERMINOLOGY}/payment-type", "payment")}
        detail["request"] = {"identifier": {"system": CLAIM_ID_SYSTEM, "value": paid.pcn}}
        detail["response"] = {"reference": paid.eob}
        if paid.money is not None:
            detail["amount"] = paid.money
        details.append(detail)
    adjusted, plb_total = provider_adjustments(m)
    details += adjusted
    body: dict[str, Any] = {"status": "active"}
    if remit.created:
        body["created"] = remit.created
    body["paymentIssuer"] = remit.payer
    if remit.payee is not None:
        body["requestor"] = remit.payee
    body["outcome"] = "complete"
    if remit.paid_on or remit.created:
        body["paymentDate"] = remit.paid_on or remit.created
    amount = m.money(None, "BPR02", bpr.get(2))
    if amount is not None:
        body["paymentAmount"] = amount
    if trace:
        body["paymentIdentifier"] = {"system": PAYMENT_TRACE_SYSTEM, "value": trace}
    if details:
        body["detail"] = details
    ts = m.tset
    key = f"{remit.payer_id}|{trace}" if trace else f"{remit.payer_id}|set|{ts.interchange.control_number}|{ts.control_number}"
    m.add("PaymentReconciliation", key, body)
    actual = sum((paid.amount for paid in remit.claims), Decimal(0)) - plb_total
    m.balance("BPR02 = sum(CLP04) - sum(PLB)", f"payment {trace or ts.control_number}", segment_amount(bpr, 2), actual)


def provider_adjustments(m: SetMapper) -> tuple[list[dict[str, Any]], Decimal]:
    """Every PLB adjustment (PLB03/04 … PLB13/14: `reason:reference`, amount) → a detail with
    the amount as sent; their sum."""
    details: list[dict[str, Any]] = []
    total = Decimal(0)
    for plb in m.tset.loops.all("PLB"):
        for k in range(3, 15, 2):
            reason, ref, text = plb.get(k, 1), plb.get(k, 2), plb.get(k + 1)
            if not reason and not text:
                continue
            if reason not in PLB_REASONS:
                m.problem(None, f"PLB{k:02d}-1", f"`{reason or ''}` is not a provider adjustment reason code (X12 element 426: L6 interest, WO overpayment recovery, FB forwarding balance …)")
            amount = m.money(None, f"PLB{k + 1:02d}", text)
            if amount is None:
                continue
            total += segment_amount(plb, k + 1)
            detail: dict[str, Any] = {}
            if ref:
                detail["identifier"] = {"value": ref}
            detail["type"] = concept(PLB_SYSTEM, reason or "")
            detail["amount"] = amount
            details.append(detail)
    return details, total
