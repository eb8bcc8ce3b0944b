"""837 parties → Patient, Coverage, Practitioner, Organization and Location.

Keys (each resource's source id, from which its silver id is made):

- payer Organization (2010BB, 2330B, pay-to plan 2010AC): `payer|<NM109>` (`payer|name|<NM103>`
  without an id);
- billing provider (2010AA) and the claim's providers (2310x, 2420x): the NPI (NM109 when
  NM108 = XX), else `<NM108>|<NM109>`, else `name|<NM103>|<NM104>`; NM102 = 1 makes a
  Practitioner, 2 an Organization;
- service facility (NM1*77) Location: `facility|<NPI>`, else `facility|name|<NM103>|<N403>`;
- Patient: the subscriber (2010BA, the claim is in 2000B) is `<payer id>|<member id NM109>`
  and carries the member id (typed MB, system `member-id/<payer id>`); a dependent (2010CA,
  the claim is in 2000C; 5010 gives dependents no id of their own) is
  `<payer id>|<member id>|dependent|<NM103>|<NM104>|<DMG02>`;
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
from urllib.parse import quote

from medlake.formats.x12 import Segment, Separators
from medlake.silver.mappings.x12_837_nodes import date
from medlake.silver.mappings.x12_common import NPI_SYSTEM, TAX_ID_SYSTEM, SetMapper

if TYPE_CHECKING:
    from medlake.silver.mappings.x12_837_nodes import Node

_NO_SEPARATORS = Separators(repetition=None)
"""NM1 elements are plain values: the separators of a cached copy never split anything."""
MEMBER_ID_SYSTEM = "https://medlake.dev/fhir/sid/member-id"
"""Member ids are unique per payer: the identifier system is this + `/<payer id>`."""
PAYER_ID_SYSTEM = "https://medlake.dev/fhir/sid/payer-id"
"""The payer's id as sent in NM109 (NM108 PI payer id or XV CMS plan id)."""
FILING_SYSTEM = "https://medlake.dev/fhir/x12/claim-filing-indicator"
"""SBR09 (X12 element 1032: MB Medicare B, MC Medicaid, CI commercial …) as Coverage.type."""
NUCC = "http://nucc.org/provider-taxonomy"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"

GENDER = {"M": "male", "F": "female", "U": "unknown"}
RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "53": "common"}
"""X12 individual relationship codes (SBR02, PAT01) → subscriber-relationship; others: `other`."""
PROVIDER_TYPE = {"coding": [{"system": f"{TERMINOLOGY}/organization-type", "code": "prov", "display": "Healthcare Provider"}]}
PAYER_TYPE = {"coding": [{"system": f"{TERMINOLOGY}/organization-type", "code": "pay", "display": "Payer"}]}
ORDER = {code: n for n, code in enumerate("PSTABCDEFGH", 1)}
"""SBR01 payer responsibility sequence → Coverage.order (P 1, S 2, T 3, A–H 4–11)."""

# -- data types ------------------------------------------------------------------------------
def human_name(nm1: Segment) -> dict[str, Any] | None:
    """NM103 family, NM104/NM105 given, NM106 prefix, NM107 suffix."""
    out: dict[str, Any] = {}
    if nm1.get(3):
        out["family"] = nm1.get(3)
    given = [g for g in (nm1.get(4), nm1.get(5)) if g]
    if given:
        out["given"] = given
    for n, key in ((6, "prefix"), (7, "suffix")):
        value = nm1.get(n)
        if value:
            out[key] = [value]
    return out or None


def address(node: Node, use: str) -> dict[str, Any] | None:
    """N3 (two lines) + N4 (city, state, postal code, country) as an Address."""
    n3, n4 = node.seg("N3"), node.seg("N4")
    out: dict[str, Any] = {"use": use}
    lines = [x for x in (n3.get(1), n3.get(2)) if x] if n3 else []
    if lines:
        out["line"] = lines
    if n4 is not None:
        for n, key in ((1, "city"), (2, "state"), (3, "postalCode"), (4, "country")):
            value = n4.get(n)
            if value:
                out[key] = value
    return out if len(out) > 1 else None


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return {"coding": [out]}


@lru_cache(maxsize=1 << 14)
def shared(system: str, code: str) -> dict[str, Any]:
    """`coding(system, code)`, one object per code for the whole run: codes repeat on every
    claim, and objects not made are objects the garbage collector never walks. Resources are
    serialized, never modified in place below their top level, so sharing is safe."""
    return coding(system, code)


def member_identifier(payer_id: str, member_id: str) -> dict[str, Any]:
    return {
        "type": coding(f"{TERMINOLOGY}/v2-0203", "MB", "Member Number"),
        "system": f"{MEMBER_ID_SYSTEM}/{quote(payer_id, safe='')}",
        "value": member_id,
    }


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


def provider_key(nm1: Segment) -> str:
    """The NPI; else NM108|NM109; else the name."""
    ident = nm1.get(9)
    if ident:
        return ident if nm1.get(8) == "XX" else f"{nm1.get(8) or ''}|{ident}"
    return f"name|{nm1.get(3) or ''}|{nm1.get(4) or ''}"


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
    return rtype, provider_key(nm1), name, body


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
    """NM1*PR (or the pay-to plan NM1*PE) → Organization `payer|<id>`."""
    nm1 = node.trigger
    key = f"payer|{payer_id(nm1)}"
    ref = m.reference("Organization", key, nm1.get(3))
    if m.find("Organization", key) is None:
        body: dict[str, Any] = {}
        if nm1.get(9):
            body["identifier"] = [{"system": PAYER_ID_SYSTEM, "value": nm1.get(9)}]
        body["type"] = [PAYER_TYPE]
        if nm1.get(3):
            body["name"] = nm1.get(3)
        addr = address(node, "work")
        if addr:
            body["address"] = [addr]
        m.add("Organization", key, body)
    return ref


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
        if sex in GENDER:
            body["gender"] = GENDER[sex]
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
        body["type"] = coding(FILING_SYSTEM, filing)
    if member:
        body["subscriberId"] = member
    body["beneficiary"] = beneficiary
    if relationship:
        code = RELATIONSHIP.get(relationship, "other")
        body["relationship"] = coding(f"{TERMINOLOGY}/subscriber-relationship", code)
    body["payor"] = [payor]
    if sbr is not None and sbr.get(3):
        group: dict[str, Any] = {"type": coding(f"{TERMINOLOGY}/coverage-class", "group"), "value": sbr.get(3)}
        if sbr.get(4):
            group["name"] = sbr.get(4)
        body["class"] = [group]
    order = ORDER.get(sbr.get(1) or "") if sbr is not None else None
    if order:
        body["order"] = order
    m.add("Coverage", key, body, patient_key=patient_key)
    return m.reference("Coverage", key)
