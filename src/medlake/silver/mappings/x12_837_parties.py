"""837 parties → Patient, Coverage, Practitioner, Organization and Location.

Keys (each resource's source id, from which its silver id is made):

- payer Organization (2010BB, 2330B, pay-to plan 2010AC): `payer|<NM109>` (`payer|name|<NM103>`
  without an id), made by `x12_common.payer_organization` exactly as the other X12 families
  make it (id, type `pay`, name: no address, so the 835's and the 837's payer never differ);
- billing provider (2010AA) and the claim's providers (2310x, 2420x): the NPI (NM109 when
  NM108 = XX), else `<NM108>|<NM109>`, else `name|<NM103>|<NM104>`; NM102 = 1 makes a
  Practitioner, 2 an Organization;
- service facility (NM1*77) Location: `facility|<NPI>`, else `facility|name|<NM103>|<N403>`;
- Patient: the subscriber (2010BA, the claim is in 2000B) is `<payer id>|<member id NM109>`
  (`<payer id>|name|<NM103>|<NM104>|<DMG02>` without a member id) and carries the member id
  (typed MB, system `member-id/<payer id>`); a dependent (2010CA, the claim is in 2000C; 5010
  gives dependents no id of their own) is `<payer id>|<member id>|dependent|<NM103>|<NM104>|
  <DMG02>`, without an identifier;
- Coverage: the patient's key (one Coverage per payer, member and beneficiary); another
  payer's (2320/2330) `<payer id>|<member id>` when the patient is its subscriber (2320
  SBR02 = 18), else `<payer id>|<member id>|<patient key>`.

The first resource made for a key in a set wins (the billing provider, met first, keeps its
address when the same NPI renders a claim). Not mapped: PER contacts, REF secondary provider
ids, the subscriber's SSN (REF*SY), a dependent's policy holder as a person of its own (only
the relationship is kept on the Coverage), PAT05–PAT09.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from medlake.formats.x12 import Segment, Separators
from medlake.silver.mappings.x12_837_nodes import date
from medlake.silver.mappings.x12_common import (
    GENDERS,
    HL7_TERMINOLOGY,
    NPI_SYSTEM,
    TAX_ID_SYSTEM,
    SetMapper,
    concept,
    human_name,
    member_identifier,
    payer_organization,
    postal_address,
    provider_key,
)

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_837_nodes import Node

TERMINOLOGY = HL7_TERMINOLOGY
FILING_SYSTEM = "https://medlake.dev/fhir/x12/claim-filing-indicator"
"""SBR09 (X12 element 1032: MB Medicare B, MC Medicaid, CI commercial …) as Coverage.type."""
NUCC = "http://nucc.org/provider-taxonomy"
RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "53": "common"}
"""X12 individual relationship codes (SBR02, PAT01) → subscriber-relationship; others: `other`."""
ORDER = {code: n for n, code in enumerate("PSTABCDEFGH", 1)}
"""SBR01 payer responsibility sequence → Coverage.order (P 1, S 2, T 3, A–H 4–11)."""
PROVIDER_TYPE = concept(f"{TERMINOLOGY}/organization-type", "prov", "Healthcare Provider")
_NO_SEPARATORS = Separators(repetition=None)
"""NM1 elements are plain values: the separators of a cached copy never split anything."""


def address(node: Node, use: str) -> dict[str, Any] | None:
    """The loop's N3 + N4 as an Address."""
    return postal_address(node.seg("N3"), node.seg("N4"), use)


@lru_cache(maxsize=1 << 14)
def shared(system: str, code: str) -> dict[str, Any]:
    """`concept(system, code)`, one object per code for the whole run: codes repeat on every
    claim, and objects not made are objects the garbage collector never walks. Resources are
    serialized, never modified in place below their top level, so sharing is safe."""
    return concept(system, code)


# -- providers -------------------------------------------------------------------------------
class Parties:
    """The set's providers, payers and facilities, each made once per distinct NM1 loop."""

    def __init__(self, m: SetMapper) -> None:
        self.m = m
        self._refs: dict[tuple[str, ...], dict[str, Any]] = {}

    def provider(self, node: Node, nm1: Segment | None = None) -> dict[str, Any]:
        """`provider(m, node)`, once per distinct NM1 (`nm1`: the loop's trigger, when read)."""
        key = ("provider", *(nm1 or node.trigger).elements)
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = provider(self.m, node)
        return ref

    def payer(self, node: Node) -> dict[str, Any]:
        key = ("payer", *node.trigger.elements)
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = payer(self.m, node)
        return ref

    def facility(self, node: Node) -> dict[str, Any]:
        n4 = node.seg("N4")
        key = ("facility", *node.trigger.elements, *(n4.elements if n4 is not None else ()))
        ref = self._refs.get(key)
        if ref is None:
            ref = self._refs[key] = facility(self.m, node)
        return ref


def provider(m: SetMapper, node: Node, billing: bool = False) -> dict[str, Any]:
    """An NM1 loop's provider as a Practitioner (NM102 = 1) or Organization; its reference.
    The billing provider also gets its REF*EI tax id and its N3/N4 address."""
    nm1 = node.trigger
    rtype, key, name, body = _provider(tuple(nm1.elements))
    ref = m.reference(rtype, key, name)
    if m.find(rtype, key) is not None:
        return ref
    if billing:
        body = dict(body)
        tax = [{"system": TAX_ID_SYSTEM, "value": r.get(2)} for r in node.all("REF") if r.get(1) == "EI" and r.get(2)]
        if tax:
            body["identifier"] = [*body.get("identifier", []), *tax]
        addr = address(node, "work")
        if addr:
            body["address"] = [addr]
    m.add(rtype, key, body)
    return ref


@lru_cache(maxsize=4096)
def _provider(elements: tuple[str, ...]) -> tuple[str, str, str | None, dict[str, Any]]:
    """(resource type, key, display, body) of a provider's NM1: the same NM1 comes back in
    set after set, so each is worked out once."""
    nm1 = Segment(list(elements), 0, _NO_SEPARATORS)
    rtype = "Practitioner" if nm1.get(2) == "1" else "Organization"
    body: dict[str, Any] = {}
    if nm1.get(8) == "XX" and nm1.get(9):
        body["identifier"] = [{"system": NPI_SYSTEM, "value": nm1.get(9)}]
    if rtype == "Organization":
        body["type"] = [PROVIDER_TYPE]
        if nm1.get(3):
            body["name"] = nm1.get(3)
        name = nm1.get(3)
    else:
        hn = human_name(nm1)
        if hn:
            body["name"] = [hn]
        name = " ".join(x for x in (nm1.get(4), nm1.get(3)) if x) or None
    return rtype, provider_key(nm1.get(8), nm1.get(9), nm1.get(3), nm1.get(4)), name, body


def add_pay_to_address(m: SetMapper, provider_ref: dict[str, Any], node: Node) -> None:
    """2010AB (pay-to address) as the billing provider's address with use `billing`."""
    rtype, _, rid = provider_ref["reference"].partition("/")
    addr = address(node, "billing")
    for r in m.resources:
        if r.resource_type == rtype and r.id == rid and addr and addr not in r.resource.get("address", []):
            r.resource["address"] = [*r.resource.get("address", []), addr]


def qualification(node: Node) -> dict[str, Any] | None:
    """PRV*xx*PXC*<taxonomy> → careTeam.qualification (NUCC provider taxonomy)."""
    prv = node.seg("PRV")
    if prv is None or prv.get(2) != "PXC" or not prv.get(3):
        return None
    return shared(NUCC, prv.get(3) or "")


def facility(m: SetMapper, node: Node) -> dict[str, Any]:
    """NM1*77 service facility → Location."""
    nm1 = node.trigger
    npi = nm1.get(9) if nm1.get(8) == "XX" else None
    n4 = node.seg("N4")
    key = f"facility|{npi}" if npi else f"facility|name|{nm1.get(3) or ''}|{(n4.get(3) if n4 else '') or ''}"
    ref = m.reference("Location", key, nm1.get(3))
    if m.find("Location", key) is None:
        body: dict[str, Any] = {}
        if npi:
            body["identifier"] = [{"system": NPI_SYSTEM, "value": npi}]
        if nm1.get(3):
            body["name"] = nm1.get(3)
        addr = address(node, "work")
        if addr:
            body["address"] = addr
        m.add("Location", key, body)
    return ref


# -- payer, patient, coverage ----------------------------------------------------------------
def payer_id(nm1: Segment) -> str:
    """NM109 (payer id), else `name|<NM103>`."""
    return nm1.get(9) or f"name|{nm1.get(3) or ''}"


def payer(m: SetMapper, node: Node) -> dict[str, Any]:
    """NM1*PR (or the pay-to plan NM1*PE) → Organization `payer|<id>`, made as every X12
    family makes it (`payer_organization`: id, type, name; the payer's N3/N4 is left out)."""
    nm1 = node.trigger
    return payer_organization(m, payer_id(nm1), nm1.get(3))


def person(m: SetMapper, node: Node, key: str, member: tuple[str, str] | None) -> dict[str, Any]:
    """2010BA or 2010CA → Patient (name, DMG birth date and gender, N3/N4 home address), with
    the member id when the patient is the subscriber (`member` = (payer id, member id))."""
    nm1 = node.trigger
    body: dict[str, Any] = {}
    if member is not None and member[1]:
        body["identifier"] = [member_identifier(*member)]
    hn = human_name(nm1)
    if hn:
        body["name"] = [{"use": "official", **hn}]
    dmg = node.seg("DMG")
    if dmg is not None:
        sex = dmg.get(3)
        if sex in GENDERS:
            body["gender"] = GENDERS[sex]
        elif sex:
            m.problem(node.loop, "DMG03", f"`{sex}` is not a gender code (F, M, U)")
        born = date(m, node, "DMG02", dmg.get(2)) if dmg.get(2) else None
        if born:
            body["birthDate"] = born
    addr = address(node, "home")
    if addr:
        body["address"] = [addr]
    m.add("Patient", key, body)
    return m.reference("Patient", key)


def dependent_key(payer: str, member: str, node: Node) -> str:
    nm1 = node.trigger
    dmg = node.seg("DMG")
    born = (dmg.get(2) if dmg else None) or ""
    return f"{payer}|{member}|dependent|{nm1.get(3) or ''}|{nm1.get(4) or ''}|{born}"


def coverage(
    m: SetMapper, key: str, sbr: Segment | None, payer_key: str, member: str | None,
    refs: tuple[dict[str, Any], dict[str, Any]], patient_key: str, relationship: str | None,
) -> dict[str, Any]:
    """SBR + the subscriber's member id → Coverage (`refs` = payor, beneficiary): subscriberId,
    relationship (SBR02 or PAT01), order (SBR01), class group (SBR03, name SBR04), type (SBR09
    claim filing indicator)."""
    payor, beneficiary = refs
    body: dict[str, Any] = {"status": "active"}
    if member:
        body["identifier"] = [member_identifier(payer_key, member)]
    filing = sbr.get(9) if sbr is not None else None
    if filing:
        body["type"] = concept(FILING_SYSTEM, filing)
    if member:
        body["subscriberId"] = member
    body["beneficiary"] = beneficiary
    if relationship:
        code = RELATIONSHIP.get(relationship, "other")
        body["relationship"] = concept(f"{TERMINOLOGY}/subscriber-relationship", code)
    body["payor"] = [payor]
    if sbr is not None and sbr.get(3):
        group: dict[str, Any] = {"type": concept(f"{TERMINOLOGY}/coverage-class", "group"), "value": sbr.get(3)}
        if sbr.get(4):
            group["name"] = sbr.get(4)
        body["class"] = [group]
    order = ORDER.get(sbr.get(1) or "") if sbr is not None else None
    if order:
        body["order"] = order
    m.add("Coverage", key, body, patient_key=patient_key)
    return m.reference("Coverage", key)
