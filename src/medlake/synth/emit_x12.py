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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

from medlake.synth.model import Claim, Coverage, Encounter, PersonHistory
from medlake.synth.truth import TruthWriter
from medlake.synth.x12_build import Interchange, Separators, amount
from medlake.synth.x12_claims import (
    CLEARINGHOUSE,
    SUBMITTER,
    Cas,
    Remit,
    Subscriber,
    adjudicate,
    set_835,
    set_837,
)

__all__ = ["ClaimsEmitter"]

CLAIMS_PER_FILE = 300
CLAIMS_PER_SET = 25
REMITS_PER_PAYMENT = 60
REMITS_PER_FILE = 300
REVERSAL_RATE = 0.02
"""Share of paid claims later reversed (CLP02 22) and reissued in a later payment."""
INTEREST_RATE = 0.1
"""Share of payments with a PLB L6 interest line."""

FILING = {"medicare": "MB", "medicaid": "MC", "commercial": "CI"}
GUIDES = {"P": "005010X222A1", "I": "005010X223A2", "835": "005010X221A1"}
HOLDER_NAMES = ("JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA")



# -- files -----------------------------------------------------------------------------------
@dataclass(slots=True)
class X12Stream:
    """Numbered files `<prefix>_0001.x12` …, one interchange with one group each."""

    folder: Path
    prefix: str
    functional_id: str
    guide: str
    sender: tuple[str, str]
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
                self.s, sender=self.sender, receiver=self.receiver,
                control_number=self.counter[0], when=when,
            )  # fmt: skip
            self._f.write(self.ic.header())
            self._f.write(self.ic.begin_group(self.functional_id, self.sender[1], self.receiver[1], self.guide))
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
    text = path.read_bytes().decode("utf-8")  # read_text would turn CR into LF
    m = re.search(r"(?m)^SE\*(\d+)\*(\d+)~", text)
    if m is None:
        raise ValueError(f"no SE segment in `{path}`")
    text = text[: m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1) :]
    path.write_text(text, encoding="utf-8", newline="")
    return m.group(2)


def at_noon(d: date) -> datetime:
    return datetime.combine(d, time(12, 0))


def _coverage(history: PersonHistory, payer_id: str) -> Coverage | None:
    return next((c for c in history.coverages if c.payer_id == payer_id), None)



class ClaimsEmitter:
    """The billing system's 837s and the payers' 835s, through one clearinghouse."""

    source = "claims"

    def __init__(self, out: Path, seed: int) -> None:
        self.pick = random.Random(f"{seed}:claims")
        folder = out / self.source
        isa = [0]
        us, ch = ("ZZ", SUBMITTER[1]), ("ZZ", CLEARINGHOUSE[1])
        self.streams = {
            "P": X12Stream(folder, "837p", "HC", GUIDES["P"], us, ch, isa, CLAIMS_PER_FILE),
            "I": X12Stream(folder, "837i", "HC", GUIDES["I"], us, ch, isa, CLAIMS_PER_FILE),
        }
        self.remits = X12Stream(folder, "835", "HP", GUIDES["835"], ch, us, isa, REMITS_PER_FILE)
        self.se_target = self.pick.randint(1, 20)  # the 837P set whose SE01 is wrong
        self.unbalanced_target = self.pick.randint(1, 40)  # the CLP that does not balance
        self.se_done = False
        self.p_sets = 0
        self.unbalanced_done = False
        self.clps = 0
        self.payments = 0
        self.icns = 0
        self._buffer: dict[tuple[str, str], list[Remit]] = {}
        self._waiting: dict[tuple[str, str], list[Remit]] = {}  # reversals chosen, not yet due
        self._ready: dict[tuple[str, str], list[Remit]] = {}  # reversals due in the next payment
        self._payee: dict[tuple[str, str], tuple[tuple[str, str], Claim]] = {}
        self._sent_on: dict[str, date] = {}  # ICN → date of the 835 that paid it (reversals come later)

    # -- 837 ------------------------------------------------------------------------------
    def emit(self, history: PersonHistory, rng: random.Random, truth: TruthWriter) -> None:
        reg = history.registration(self.source)
        if reg is None:
            return
        groups: dict[tuple[str, str, str, str], list[Claim]] = {}
        for c in history.claims:
            cov = _coverage(history, c.payer_id)
            if self.source not in c.sources or not c.lines:
                continue
            if cov is not None and cov.payer_type == "selfpay":
                continue
            kind = "I" if c.claim_type == "institutional" else "P"
            groups.setdefault((kind, c.billing.npi, c.payer_id, c.member_id), []).append(c)
        for (kind, _, payer_id, _), claims in groups.items():
            cov = _coverage(history, payer_id)
            sub = Subscriber(
                reg=reg, member_id=claims[0].member_id, group_number=cov.group_number if cov else "",
                relationship=cov.relationship if cov else "18",
                filing=FILING.get(cov.payer_type, "CI") if cov else "CI",
                payer_id=payer_id, payer_name=claims[0].payer_name,
                holder_given=rng.choice(HOLDER_NAMES),
            )  # fmt: skip
            for i in range(0, len(claims), CLAIMS_PER_SET):
                chunk = claims[i : i + CLAIMS_PER_SET]
                encs = {c.encounter_id: e for c in chunk if (e := history.encounter(c.encounter_id))}
                self._write_837(kind, sub, chunk, encs, history.person.person_id, truth)
            for c in claims:
                if c.paid_date is not None:
                    self._queue_remit(adjudicate(c, reg, history.person.person_id, sub.filing, self._icn(c)), rng, truth)

    def _write_837(
        self, kind: str, sub: Subscriber, claims: list[Claim], encs: dict[str, Encounter],
        person_id: str, truth: TruthWriter,
    ) -> None:
        stream = self.streams[kind]
        when = at_noon(max(c.submitted for c in claims))
        ic = stream.open(when)
        assert stream.path is not None
        rel = truth.rel(stream.path)
        stream.write(ic.begin_set("837", stream.guide))
        for seg in set_837(ic, kind, f"{ic.control_number}{ic.sets_total:04d}", when, sub, claims, encs):
            stream.write(seg)
        if kind == "P":
            self.p_sets += 1
        miscount = 1 if kind == "P" and not self.se_done and self.p_sets >= self.se_target else 0
        stream.write(ic.end_set(miscount=miscount))
        if miscount:
            self.se_done = True
            self._se_defect(truth, rel, f"{ic.sets_total:04d}")
        label = "837P" if kind == "P" else "837I"
        for c in claims:
            truth.patient_record(sub.reg, person_id, label, rel, c.claim_id, f"CLM01 {c.claim_id}")
        stream.counted(len(claims))

    def _se_defect(self, truth: TruthWriter, rel: str, st02: str) -> None:
        truth.defect(
            "x12_se_count", self.source, rel, f"ST02 {st02} SE01",
            "SE01 is one more than the segments from ST to SE inclusive",
        )  # fmt: skip

    def _icn(self, c: Claim) -> str:
        self.icns += 1
        return c.payer_claim_control or f"{self.icns:013d}"

    # -- 835 ------------------------------------------------------------------------------
    def _queue_remit(self, r: Remit, rng: random.Random, truth: TruthWriter) -> None:
        key = (r.claim.payer_id, r.claim.billing.npi)
        self._payee.setdefault(key, ((r.claim.payer_id, r.claim.payer_name), r.claim))
        self._buffer.setdefault(key, []).append(r)
        if r.status == "1" and r.paid > 0 and rng.random() < REVERSAL_RATE:
            self._waiting.setdefault(key, []).append(r)
        if len(self._buffer[key]) >= REMITS_PER_PAYMENT:
            self._pay(key, truth)

    def _pay(self, key: tuple[str, str], truth: TruthWriter, *, force_defect: bool = False) -> None:
        """Write one payment (835 set) of `key`'s buffered claims plus reversals now due."""
        batch = self._buffer.pop(key, [])
        for r in self._ready.pop(key, []):
            self.icns += 1
            batch += [replace(r, sign=-1), replace(r, icn=f"{r.icn}R{self.icns}")]
        if key in self._waiting:
            self._ready[key] = self._waiting.pop(key)
        if not batch:
            return
        paid_on = max(r.claim.paid_date or r.claim.submitted for r in batch)
        reversed_on = [self._sent_on.get(r.icn, r.claim.paid_date or r.claim.submitted) for r in batch if r.sign < 0]
        if reversed_on:  # a reversal comes at least two weeks after the 835 of the original payment
            paid_on = max(paid_on, max(reversed_on) + timedelta(days=14))
        self.payments += 1
        trace = f"EFT{self.payments:09d}"
        plb = Decimal(0)
        if self.pick.random() < INTEREST_RATE:
            plb = -Decimal(self.pick.randint(50, 2500)) / 100  # L6 interest paid to the provider
        payer, first = self._payee[key]
        ic = self.remits.open(at_noon(paid_on))
        assert self.remits.path is not None
        rel = truth.rel(self.remits.path)
        if force_defect or (not self.unbalanced_done and self.clps + len(batch) >= self.unbalanced_target):
            i = 0 if force_defect else max(0, self.unbalanced_target - self.clps - 1)
            batch[i] = self._unbalance(batch[i], rel, truth)
        self.remits.write(ic.begin_set("835", GUIDES["835"]))
        for seg in set_835(ic, trace, paid_on, batch, plb, payer, first.billing):
            self.remits.write(seg)
        self.remits.write(ic.end_set())
        for r in batch:
            if r.sign > 0:
                self._sent_on[r.icn] = paid_on
            k = r.icn if r.sign > 0 else f"{r.icn}/22"
            truth.patient_record(r.reg, r.person_id, "835", rel, k, f"CLP07 {r.icn}" + (" CLP02 22" if r.sign < 0 else ""))
        self.clps += len(batch)
        self.remits.counted(len(batch))

    def _unbalance(self, r: Remit, rel: str, truth: TruthWriter) -> Remit:
        """The injected defect: one claim whose CAS no longer sums to charge − paid."""
        self.unbalanced_done = True
        delta = Decimal(self.pick.randint(100, 2000)) / 100
        cas = [Cas(c.group, c.reason, c.amount) for c in r.claim_cas]
        if cas:
            cas[0].amount += delta
        else:
            cas.append(Cas("CO", "45", delta))
        bad = replace(r, claim_cas=cas)
        total = sum((c.amount for c in bad.all_cas()), Decimal(0)) * r.sign
        truth.defect(
            "x12_835_unbalanced", self.source, rel, f"CLP01 {r.claim.claim_id} CLP07 {r.icn}",
            f"CLP03 − CLP04 = {amount(r.charge - r.paid)} but Σ CAS = {amount(total)}",
        )  # fmt: skip
        return bad

    def close(self, truth: TruthWriter) -> None:
        force = not self.unbalanced_done
        while self._buffer or self._ready or self._waiting:
            for key in list(dict.fromkeys([*self._buffer, *self._ready, *self._waiting])):
                self._pay(key, truth, force_defect=force and not self.unbalanced_done)
        for stream in self.streams.values():
            last = stream.finish()
            if stream is self.streams["P"] and not self.se_done and last is not None:
                self.se_done = True
                self._se_defect(truth, truth.rel(last), bump_first_se(last))
        self.remits.finish()
