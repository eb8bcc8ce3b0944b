"""X12 005010 claims feed (`claims/`): 837P (X222A1), 837I (X223A2) and 835 (X221A1).

- `claims/837p_0001.x12` …, `claims/837i_0001.x12` …: one interchange (ISA…IEA) per file,
  one functional group, one transaction set per person × billing provider × payer (up to
  `CLAIMS_PER_SET` claims), about `CLAIMS_PER_FILE` claims per file.
- `claims/835_0001.x12` …: one transaction set per payment (payer × payee, up to
  `REMITS_PER_PAYMENT` claims), reversals (CLP02 22) with their reissue in a later payment.

Every amount balances (CLM02 = Σ lines; SVC02 − SVC03 = Σ line CAS; CLP03 − CLP04 = Σ CAS;
BPR02 = Σ CLP04 − Σ PLB) except the one injected defect of each kind, listed in
`truth/defects.csv`. The true person behind every claim and remittance is in
`truth/records.csv` (kind `837P`, `837I`, `835`; key CLM01 for 837, CLP07 for 835).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO

from medlake.synth.model import Claim, ClaimLine, Coverage, PersonHistory, Registration
from medlake.synth.truth import TruthWriter
from medlake.synth.x12_build import Interchange, Separators, amount

__all__ = ["ClaimsEmitter"]

CLAIMS_PER_FILE = 300
CLAIMS_PER_SET = 25
REMITS_PER_PAYMENT = 60
REMITS_PER_FILE = 300
REVERSAL_RATE = 0.02
"""Share of paid claims later reversed (CLP02 22) and reissued in a later payment."""
INTEREST_RATE = 0.1
"""Share of payments with a PLB L6 interest line."""

SUBMITTER = ("MEDLAKE BILLING", "MEDLAKE01")
CLEARINGHOUSE = ("CLEARINGHOUSE", "CLRHOUSE01")
FILING = {"medicare": "MB", "medicaid": "MC", "commercial": "CI"}
GUIDES = {"P": "005010X222A1", "I": "005010X223A2"}
CENT = Decimal("0.01")


def D(x: float) -> Decimal:
    """A float amount from the model as exact cents."""
    return Decimal(str(x)).quantize(CENT)


# -- adjustments and balancing ----------------------------------------------------------------
@dataclass(slots=True)
class Cas:
    group: str
    reason: str
    amount: Decimal


def _balanced(adjs: tuple[tuple[str, str, float], ...], gap: Decimal) -> list[Cas]:
    """The model's adjustments, plus a CO-45 for any remainder so that Σ = `gap`."""
    out = [Cas(g, r, D(a)) for g, r, a in adjs if D(a) != 0]
    rest = gap - sum((c.amount for c in out), Decimal(0))
    if rest != 0:
        same = next((c for c in out if c.group == "CO" and c.reason == "45"), None)
        if same is not None:
            same.amount += rest
        else:
            out.append(Cas("CO", "45", rest))
    return [c for c in out if c.amount != 0]


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


def _adj(a: object) -> tuple[str, str, float]:
    from medlake.synth.model import Adjustment

    assert isinstance(a, Adjustment)
    return (a.group, a.reason, a.amount)


def adjudicate(claim: Claim, reg: Registration, person_id: str, filing: str, icn: str) -> Remit:
    """Line paid/charges from the model; CAS made to balance (model remainders → CO-45)."""
    lines = []
    for ln in claim.lines:
        charge, paid = D(ln.charge), D(ln.paid)
        lines.append((ln, charge, paid, _balanced(tuple(_adj(a) for a in ln.adjustments), charge - paid)))
    line_gap = sum((c - p - sum((x.amount for x in cas), Decimal(0)) for _, c, p, cas in lines), Decimal(0))
    claim_cas = _balanced(tuple(_adj(a) for a in claim.claim_adjustments), line_gap)
    status = "4" if claim.status == "denied" else "1"
    return Remit(claim, reg, person_id, filing, status, lines, claim_cas, icn)


# -- files -----------------------------------------------------------------------------------
@dataclass(slots=True)
class X12Stream:
    """Numbered files `<prefix>_0001.x12` …, one interchange with one group each."""

    folder: Path
    prefix: str
    functional_id: str
    guide: str
    receiver: tuple[str, str]
    counter: list[int]  # shared ISA13 counter of the emitter
    per_file: int
    s: Separators = field(default_factory=Separators)
    files: int = 0
    items: int = 0
    ic: Interchange | None = None
    path: Path | None = None
    _f: IO[str] | None = None
    _in_file: int = 0

    def open(self, when: datetime) -> Interchange:
        if self.ic is None:
            self.files += 1
            self.counter[0] += 1
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / f"{self.prefix}_{self.files:04d}.x12"
            self._f = self.path.open("w", encoding="utf-8", newline="")
            self.ic = Interchange(
                self.s, sender=("ZZ", SUBMITTER[1]), receiver=self.receiver,
                control_number=self.counter[0], when=when,
            )  # fmt: skip
            self._f.write(self.ic.header())
            self._f.write(self.ic.begin_group(self.functional_id, SUBMITTER[1], self.receiver[1], self.guide))
            self._in_file = 0
        return self.ic

    def write(self, text: str) -> None:
        assert self._f is not None
        self._f.write(text)

    def counted(self, n: int) -> None:
        """`n` claims were written; finish the file when it is full."""
        self._in_file += n
        self.items += n
        if self._in_file >= self.per_file:
            self.finish()

    def finish(self) -> Path | None:
        if self.ic is None or self._f is None:
            return None
        self._f.write(self.ic.end_group())
        self._f.write(self.ic.trailer())
        self._f.close()
        self.ic, self._f = None, None
        return self.path


def bump_first_se(path: Path) -> str:
    """Rewrite the first SE01 of a finished file one higher (the injected count defect)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"(?m)^SE\*(\d+)\*(\d+)~", text)
    if m is None:
        raise ValueError(f"no SE segment in `{path}`")
    text = text[: m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1) :]
    path.write_text(text, encoding="utf-8", newline="")
    return m.group(2)


def ymd(d: date | datetime) -> str:
    return d.strftime("%Y%m%d")


def at_noon(d: date) -> datetime:
    return datetime.combine(d, time(12, 0))


def _coverage(history: PersonHistory, payer_id: str) -> Coverage | None:
    return next((c for c in history.coverages if c.payer_id == payer_id), None)


from medlake.synth.emit_x12_claims import ClaimsEmitter  # noqa: E402
