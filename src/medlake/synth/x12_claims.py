"""The claims' money, and the 837/835 transaction-set bodies, as pure functions.

`adjudicate()` turns a model `Claim` into a `Remit` whose adjustments balance (the model's
CARC adjustments, plus a CO-45 for any remainder); `claim_837()` and `payment_835()` return the
segments of one transaction set's body through an `Interchange`, which counts them for SE01.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from medlake.synth.model import Claim, ClaimLine, Encounter, Facility, Registration
from medlake.synth.x12_build import Interchange, amount

CENT = Decimal("0.01")
SUBMITTER = ("MEDLAKE BILLING", "MEDLAKE01")
CLEARINGHOUSE = ("CLEARINGHOUSE", "CLRHOUSE01")
PAYER_TIN = "999999999"


def D(x: float) -> Decimal:
    """A float amount from the model as exact cents."""
    return Decimal(str(x)).quantize(CENT)


# -- adjustments and balancing ----------------------------------------------------------------
@dataclass(slots=True)
class Cas:
    group: str
    reason: str
    amount: Decimal


def _spread(line_gaps: list[Decimal], claim_adjs: list[Cas]) -> list[list[Cas]]:
    """Give each line's unexplained amount the claim-level reasons in order (CO-50 of a
    denied claim lands on its lines), then CO-45 for whatever is still unexplained."""
    queue = [Cas(c.group, c.reason, c.amount) for c in claim_adjs if c.amount > 0]
    out: list[list[Cas]] = []
    for gap in line_gaps:
        cas: list[Cas] = []
        while gap > 0 and queue:
            take = min(gap, queue[0].amount)
            cas.append(Cas(queue[0].group, queue[0].reason, take))
            gap -= take
            queue[0].amount -= take
            if queue[0].amount == 0:
                queue.pop(0)
        if gap != 0:
            cas.append(Cas("CO", "45", gap))
        out.append(cas)
    return out


def _merge(cas: list[Cas]) -> list[Cas]:
    merged: dict[tuple[str, str], Cas] = {}
    for c in cas:
        m = merged.setdefault((c.group, c.reason), Cas(c.group, c.reason, Decimal(0)))
        m.amount += c.amount
    return [c for c in merged.values() if c.amount != 0]


@dataclass(slots=True)
class Remit:
    """One claim as the payer adjudicated it, with adjustments that balance."""

    claim: Claim
    reg: Registration
    person_id: str
    filing: str
    status: str  # CLP02
    lines: list[tuple[ClaimLine, Decimal, Decimal, list[Cas]]]  # line, charge, paid, CAS
    claim_cas: list[Cas]
    icn: str
    sign: int = 1  # -1 for a reversal

    @property
    def charge(self) -> Decimal:
        return sum((c for _, c, _, _ in self.lines), Decimal(0)) * self.sign

    @property
    def paid(self) -> Decimal:
        return sum((p for _, _, p, _ in self.lines), Decimal(0)) * self.sign

    def all_cas(self) -> Iterator[Cas]:
        yield from self.claim_cas
        for _, _, _, cas in self.lines:
            yield from cas

    @property
    def patient_resp(self) -> Decimal:
        return sum((c.amount for c in self.all_cas() if c.group == "PR"), Decimal(0)) * self.sign


def adjudicate(claim: Claim, reg: Registration, person_id: str, filing: str, icn: str) -> Remit:
    """Charges and payments from the model's lines, with CAS that balance at line level.

    The model's line adjustments stay on their line; what they leave unexplained is covered
    by the claim-level adjustments (in order) and finally by CO-45. All CAS are line-level,
    so SVC02 − SVC03 = Σ line CAS and CLP03 − CLP04 = Σ CAS hold by construction.
    """
    own = [[Cas(a.group, a.reason, D(a.amount)) for a in ln.adjustments if D(a.amount) != 0] for ln in claim.lines]
    gaps = [D(ln.charge) - D(ln.paid) - sum((c.amount for c in cas), Decimal(0)) for ln, cas in zip(claim.lines, own, strict=True)]
    claim_level = [Cas(a.group, a.reason, D(a.amount)) for a in claim.claim_adjustments]
    extra = _spread(gaps, claim_level)
    lines = [
        (ln, D(ln.charge), D(ln.paid), _merge(cas + more))
        for ln, cas, more in zip(claim.lines, own, extra, strict=True)
    ]
    status = "4" if claim.status == "denied" else "1"
    return Remit(claim, reg, person_id, filing, status, lines, [], icn)


# -- 837 --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who the claims of one 837 set are for: the member, and the patient when a dependent."""

    reg: Registration  # the patient as the billing system registered them
    member_id: str
    group_number: str
    relationship: str  # X12 individual relationship code; 18 = self
    filing: str  # SBR09: MB, MC, CI
    payer_id: str
    payer_name: str
    holder_given: str = ""  # the policy holder's given name when the patient is a dependent


def _zip9(z: str) -> str:
    return z if len(z) == 9 else (z + "0000")[:5] + "9998"  # billing provider ZIP+4 is required


def _demographics(ic: Interchange, reg: Registration) -> list[str]:
    dob = reg.birth_date.strftime("%Y%m%d") if reg.birth_date else ""
    return [
        ic.seg("N3", reg.address_line),
        ic.seg("N4", reg.city, reg.state, reg.zip),
        ic.seg("DMG", "D8" if dob else "", dob, reg.sex),
    ]


def set_837(
    ic: Interchange, kind: str, ref: str, when: datetime, sub: Subscriber, claims: list[Claim],
    encounters: Mapping[str, Encounter],
) -> list[str]:
    """Body of one 837 set (BHT … last line): 1000A/B, 2000A billing, 2000B(/C), 2300s."""
    billing = claims[0].billing
    out = [
        ic.seg("BHT", "0019", "00", ref, when.strftime("%Y%m%d"), when.strftime("%H%M"), "CH"),
        ic.seg("NM1", "41", "2", SUBMITTER[0], "", "", "", "", "46", SUBMITTER[1]),  # 1000A
        ic.seg("PER", "IC", "BILLING OFFICE", "TE", "3125550100"),
        ic.seg("NM1", "40", "2", CLEARINGHOUSE[0], "", "", "", "", "46", CLEARINGHOUSE[1]),  # 1000B
        ic.seg("HL", "1", "", "20", "1"),  # 2000A
        ic.seg("NM1", "85", "2", billing.name, "", "", "", "", "XX", billing.npi),  # 2010AA
        ic.seg("N3", billing.address_line),
        ic.seg("N4", billing.city, billing.state, _zip9(billing.zip)),
        ic.seg("REF", "EI", billing.tax_id.replace("-", "") or "000000000"),
    ]
    self_ = sub.relationship == "18"
    r = sub.reg
    out += [
        ic.seg("HL", "2", "1", "22", "0" if self_ else "1"),  # 2000B
        ic.seg("SBR", "P", "18" if self_ else "", sub.group_number, "", "", "", "", "", sub.filing),
        ic.seg("NM1", "IL", "1", r.family, r.given if self_ else sub.holder_given, r.middle if self_ else "", "", "", "MI", sub.member_id),
    ]
    if self_:
        out += _demographics(ic, r)
    out.append(ic.seg("NM1", "PR", "2", sub.payer_name, "", "", "", "", "PI", sub.payer_id))  # 2010BB
    if not self_:
        out += [
            ic.seg("HL", "3", "2", "23", "0"),  # 2000C
            ic.seg("PAT", sub.relationship),
            ic.seg("NM1", "QC", "1", r.family, r.given, r.middle),
            *_demographics(ic, r),
        ]
    for claim in claims:
        out += _claim_837(ic, kind, claim, encounters.get(claim.encounter_id))
    return out


def _claim_837(ic: Interchange, kind: str, claim: Claim, enc: Encounter | None) -> list[str]:
    total = sum((D(ln.charge) for ln in claim.lines), Decimal(0))
    if kind == "P":
        clm05 = ic.comp(claim.place_of_service or "11", "B", "1")
    else:
        tob = (claim.type_of_bill or "0111").lstrip("0")
        clm05 = ic.comp(tob[:2], "A", "1")
    out = [ic.seg("CLM", claim.claim_id, amount(total), "", "", clm05, "Y" if kind == "P" else "", "A", "Y", "Y")]
    dates = [ln.service_date for ln in claim.lines] or [claim.submitted]
    if kind == "I":
        first, last = (enc.start, enc.end) if enc else (min(dates), max(dates))
        out.append(ic.seg("DTP", "434", "RD8", f"{first:%Y%m%d}-{last:%Y%m%d}"))  # statement
        if enc is not None and enc.enc_class == "IMP":
            out.append(ic.seg("DTP", "435", "DT", f"{enc.start:%Y%m%d%H%M}"))  # admission
        urgent = enc is not None and (enc.enc_class == "EMER" or enc.admit_source == "7")
        source = (enc.admit_source if enc else "") or "1"
        status = (enc.discharge_disposition if enc else "") or "01"
        out.append(ic.seg("CL1", "1" if urgent else "3", source, status))
    dx = claim.diagnoses[:12]
    if dx:
        out.append(ic.seg("HI", *(ic.comp("ABK" if i == 0 else "ABF", d) for i, d in enumerate(dx))))
    p = claim.rendering
    if kind == "P":
        out.append(ic.seg("NM1", "82", "1", p.family, p.given, "", "", "", "XX", p.npi))  # 2310B
    else:
        out.append(ic.seg("NM1", "71", "1", p.family, p.given, "", "", "", "XX", p.npi))  # 2310A
    pointers = ic.comp(*(str(i) for i in range(1, min(len(dx), 4) + 1))) if dx else ""
    for n, ln in enumerate(claim.lines, 1):
        proc = ic.comp("HC", ln.code, *ln.modifiers[:4])
        out.append(ic.seg("LX", str(n)))
        if kind == "P":
            out.append(ic.seg("SV1", proc, amount(D(ln.charge)), "UN", str(ln.units), "", "", pointers))
        else:
            out.append(ic.seg("SV2", ln.revenue_code or "0450", proc, amount(D(ln.charge)), "UN", str(ln.units)))
        out.append(ic.seg("DTP", "472", "D8", f"{ln.service_date:%Y%m%d}"))
    return out


# -- 835 --------------------------------------------------------------------------------------
def _cas(ic: Interchange, cas: list[Cas], sign: int) -> list[str]:
    """CAS segments, one per group, up to 6 reason/amount/quantity triplets each."""
    out: list[str] = []
    for group in dict.fromkeys(c.group for c in cas):
        items = [c for c in cas if c.group == group]
        for i in range(0, len(items), 6):
            els: list[str] = []
            for c in items[i : i + 6]:
                els += [c.reason, amount(c.amount * sign), ""]
            out.append(ic.seg("CAS", group, *els))
    return out


def set_835(ic: Interchange, trace: str, paid_on: date, remits: list[Remit], plb: Decimal, payer: tuple[str, str], payee: Facility) -> list[str]:
    """Body of one 835 payment: BPR, TRN, 1000A/B, LX, CLP loops, PLB (when `plb` ≠ 0)."""
    total = sum((r.paid for r in remits), Decimal(0)) - plb
    day = paid_on.strftime("%Y%m%d")
    if total > 0:
        bpr = ic.seg("BPR", "I", amount(total), "C", "ACH", "CCP", "01", "071000013", "DA", "1234567890", "1" + PAYER_TIN, "", "01", "071000039", "DA", "9876543210", day)
    else:
        bpr = ic.seg("BPR", "H", amount(total), "C", "NON", "", "", "", "", "", "", "", "", "", "", "", day)
    out = [
        bpr,
        ic.seg("TRN", "1", trace, "1" + PAYER_TIN),
        ic.seg("DTM", "405", day),
        ic.seg("N1", "PR", payer[1]),
        ic.seg("N3", "PO BOX 1000"),
        ic.seg("N4", "CHICAGO", "IL", "60601"),
        ic.seg("REF", "2U", payer[0]),
        ic.seg("PER", "BL", "PROVIDER SERVICES", "TE", "8005550199"),
        ic.seg("N1", "PE", payee.name, "XX", payee.npi),
        ic.seg("N3", payee.address_line),
        ic.seg("N4", payee.city, payee.state, payee.zip),
        ic.seg("REF", "TJ", payee.tax_id.replace("-", "") or "000000000"),
        ic.seg("LX", "1"),
    ]
    for r in remits:
        out += _clp(ic, r)
    if plb:
        out.append(ic.seg("PLB", payee.npi, f"{paid_on.year}1231", ic.comp("L6", trace), amount(plb)))
    return out


def _clp(ic: Interchange, r: Remit) -> list[str]:
    c = r.claim
    facility = (c.place_of_service or "11") if c.claim_type == "professional" else (c.type_of_bill or "0111").lstrip("0")[:2]
    status = "22" if r.sign < 0 else r.status
    out = [
        ic.seg("CLP", c.claim_id, status, amount(r.charge), amount(r.paid), amount(r.patient_resp), r.filing, r.icn, facility, "1"),
        *_cas(ic, r.claim_cas, r.sign),
        ic.seg("NM1", "QC", "1", r.reg.family, r.reg.given, r.reg.middle, "", "", "MI", c.member_id),
    ]
    if c.rendering.npi:
        out.append(ic.seg("NM1", "82", "1", c.rendering.family, c.rendering.given, "", "", "", "XX", c.rendering.npi))
    out.append(ic.seg("DTM", "050", c.submitted.strftime("%Y%m%d")))
    for ln, charge, paid, cas in r.lines:
        code = ic.comp("HC", ln.code, *ln.modifiers[:4])
        out.append(ic.seg("SVC", code, amount(charge * r.sign), amount(paid * r.sign), ln.revenue_code if c.claim_type == "institutional" else "", str(ln.units)))
        out.append(ic.seg("DTM", "472", ln.service_date.strftime("%Y%m%d")))
        out += _cas(ic, cas, r.sign)
        if ln.allowed:
            out.append(ic.seg("AMT", "B6", amount(D(ln.allowed) * r.sign)))
    return out
