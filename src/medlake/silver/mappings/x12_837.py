"""837P / 837I / 837D (005010X222, X223, X224) → FHIR R4 Claim, with the claim's Patient,
Coverage, payer, billing provider and care team.

Every claim (loop 2300) of the set is mapped in file order, with what its HL loops give it
(worked out once per HL): the billing provider (2000A: 2010AA; pay-to address 2010AB as a
`billing` address; pay-to plan 2010AC as the payee), the subscriber and payer (2000B:
SBR, 2010BA, 2010BB) and, for a claim in 2000C, the patient (PAT, 2010CA). The patient is the
subscriber when the claim sits in 2000B (SBR02 = 18), else the 2000C patient.

- `x12_837_claim`: the Claim itself (header, care team, other payers, balancing);
- `x12_837_codes`: its HI codes (diagnosis, procedure, supportingInfo);
- `x12_837_lines`: its service lines (item);
- `x12_837_parties`: Patient, Coverage, Practitioner, Organization and Location, with their
  keys;
- `x12_837_nodes`: the set's loops indexed once (`Node`), and dates with problems.

Values that do not convert become problems (`set 0001, loop 2300, CLM02: …`), never
exceptions; CLM02 = Σ line charges is recorded with `m.balance`. Not mapped: 1000A submitter,
1000B receiver, BHT03 reference, 2000A PRV (billing taxonomy) and CUR, 2000B PAT (the
subscriber's death date, weight, pregnancy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_837_claim import Context, map_claim
from medlake.silver.mappings.x12_837_nodes import Node, date, index
from medlake.silver.mappings.x12_837_parties import (
    TERMINOLOGY,
    Parties,
    add_pay_to_address,
    coverage,
    dependent_key,
    payer_id,
    person,
    provider,
)
from medlake.silver.mappings.x12_common import SetMapper, concept

if TYPE_CHECKING:
    from medlake.formats.x12 import Segment

FAMILIES = frozenset({"837P", "837I", "837D"})
PAYEE = f"{TERMINOLOGY}/payeetype"


@dataclass(frozen=True, slots=True)
class Billing:
    provider: dict[str, Any]
    payee: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Subscriber:
    sbr: Segment | None
    node: Node
    """2010BA."""
    insurer: dict[str, Any]
    payer: str
    """The payer id (2010BB NM109)."""
    member: str
    """The member id (2010BA NM109), "" when not sent."""


def map_set(m: SetMapper) -> None:
    ts = m.tset
    if ts.family not in FAMILIES:
        return
    nodes = index(ts)
    root = nodes[0]
    bht = root.seg("BHT")
    created = date(m, root, "BHT04", bht.get(4)) if bht is not None else None
    if bht is None or not bht.get(4):
        m.problem(root.loop, "BHT04", "BHT04 (the set's creation date) is empty: the claims have no `created` date")
    contexts: dict[int, Context | None] = {}
    walk = _Walk(m, created)
    for claim in nodes:
        if claim.id != "2300":
            continue
        hl = claim.parent
        if hl is None:  # pragma: no cover - the loop table nests 2300 in 2000B or 2000C
            continue
        if hl.number not in contexts:
            contexts[hl.number] = walk.context(hl)
        ctx = contexts[hl.number]
        if ctx is not None:
            map_claim(m, claim, ctx)


class _Walk:
    """The HL loops' facts, each worked out once."""

    def __init__(self, m: SetMapper, created: str | None) -> None:
        self.m = m
        self.parties = Parties(m)
        self.created = created
        self.billing: dict[int, Billing | None] = {}
        self.subscribers: dict[int, Subscriber | None] = {}

    def context(self, hl: Node) -> Context | None:
        """The context of the claims in `hl` (a 2000B or a 2000C)."""
        m = self.m
        b_hl = hl.parent if hl.id == "2000C" else hl
        if b_hl is None or b_hl.id != "2000B" or b_hl.parent is None:  # pragma: no cover - table-guaranteed
            return None
        if b_hl.parent.number not in self.billing:
            self.billing[b_hl.parent.number] = _billing(self.parties, b_hl.parent)
        if b_hl.number not in self.subscribers:
            self.subscribers[b_hl.number] = _subscriber(self.parties, b_hl)
        sub, billing = self.subscribers[b_hl.number], self.billing[b_hl.parent.number]
        if sub is None or billing is None:
            return None
        member = sub.member or _name_key(sub.node)
        if hl.id == "2000C":
            patient_loop = hl.find("2010CA")
            if patient_loop is None:
                m.problem(hl.loop, "NM1", "loop 2010CA (patient name) is missing: the claims of this patient are not mapped")
                return None
            key = dependent_key(sub.payer, member, patient_loop)
            patient = person(m, patient_loop, key, None)
            pat = hl.seg("PAT")
            relationship = pat.get(1) if pat is not None else None
        else:
            key = f"{sub.payer}|{member}"
            patient = person(m, sub.node, key, (sub.payer, sub.member))
            relationship = (sub.sbr.get(2) if sub.sbr is not None else None) or "18"
        cov = coverage(m, key, sub.sbr, sub.payer, sub.member or None, (sub.insurer, patient), key, relationship)
        focal = [{"sequence": 1, "focal": True, "coverage": cov}]
        return Context(
            m.tset.family, self.created, billing.provider, billing.payee, sub.insurer, patient, key, cov,
            self.parties, focal,
        )  # fmt: skip


def _name_key(node: Node) -> str:
    """A subscriber without a member id: `name|<NM103>|<NM104>|<DMG02>`."""
    nm1 = node.trigger
    dmg = node.seg("DMG")
    return f"name|{nm1.get(3) or ''}|{nm1.get(4) or ''}|{(dmg.get(2) if dmg else None) or ''}"


def _subscriber(parties: Parties, hl: Node) -> Subscriber | None:
    """2000B: SBR, 2010BA subscriber, 2010BB payer."""
    found = {c.id: c for c in reversed(hl.children) if c.id in ("2010BA", "2010BB")}
    for loop_id, what in (("2010BA", "subscriber name"), ("2010BB", "payer name")):
        if loop_id not in found:
            parties.m.problem(hl.loop, "NM1", f"loop {loop_id} ({what}) is missing: the claims of this subscriber are not mapped")
            return None
    sub, pay = found["2010BA"], found["2010BB"]
    return Subscriber(hl.seg("SBR"), sub, parties.payer(pay), payer_id(pay.trigger), sub.trigger.get(9) or "")


def _billing(parties: Parties, hl: Node) -> Billing | None:
    """2000A: 2010AA billing provider, 2010AB pay-to address, 2010AC pay-to plan (payee)."""
    billing = hl.find("2010AA")
    if billing is None:
        parties.m.problem(hl.loop, "NM1", "loop 2010AA (billing provider name) is missing: the claims of this billing provider are not mapped")
        return None
    ref = provider(parties.m, billing, billing=True)
    payee = {"type": concept(PAYEE, "provider"), "party": ref}
    for child in hl.children:
        if child.id == "2010AB":
            add_pay_to_address(parties.m, ref, child)
        elif child.id == "2010AC":
            payee = {"type": concept(PAYEE, "other"), "party": parties.payer(child)}
    return Billing(ref, payee)
