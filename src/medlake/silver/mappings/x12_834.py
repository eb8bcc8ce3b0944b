"""834 (X220 benefit enrollment and maintenance) → a Patient per member (2000 INS) and a
Coverage per health coverage (2300 HD), with the insurer (1000B N1*IN) and the sponsor (1000A
N1*P5) as Organizations.

Keys (each resource's source id):

- payer id: N1*IN N104, else `name|<N102>`; the insurer Organization is `payer|<payer id>`
  (as the 835's and 837's payers); the sponsor `sponsor|<N104>` (else `sponsor|name|<N102>`);
- Patient: `<payer id>|<NM109>` (2100A, the member's own id), else, for a member sent without
  one, `<payer id>|<REF*0F>|<INS02>|<NM103>|<NM104>`;
- Coverage: the member's key + `|<HD03>` (insurance line: HLT, DEN, VIS …; `#<n>` when empty):
  a later file that changes or cancels the same line of coverage makes a new version of it.

Coverage: status from the maintenance type code, HD01 (else INS03): 001 change, 021 addition,
025 reinstatement, 026 correction, 030 audit, 032 employee information not applicable →
`active`; 024 cancellation or termination and 002 delete → `cancelled` (kept as sent in the
extension `x12-maintenance-type`); period DTP*348 (benefit begin) – DTP*349 (benefit end);
subscriberId REF*0F; subscriber: the member whose INS01 = Y and REF*0F match (self for a
subscriber); relationship from INS02 (X12 individual relationship code, also kept as sent);
payor the insurer; policyHolder the sponsor; type HD03; class `plan` HD04 (else HD03) and
`group` REF*1L (2300, else 2000); coverage level HD05 in the extension `x12-coverage-level`.

Patient: identifier NM109 (NM108 34 → SSN, else a member id under the payer), name (2100A
NM1*IL or NM1*74), telecom PER, address N3/N4, birth date DMG02, gender DMG03, marital status
DMG04, deceased INS12 (INS11 = D8).

Not mapped: BGN, REF*38 (master policy), QTY, 1000C brokers and TPAs; INS04 (maintenance
reason), INS05–INS10 (benefit, Medicare, COBRA, employment and student status, handicap),
INS17; member REFs other than REF*0F and REF*1L; DTPs other than DTP*348/349; 2100A EC, ICM,
AMT, HLH, LUI and DMG05 (race); 2100B–2100H (prior name, mailing address, employer, school,
custodial parent, responsible person, drop-off location); 2200 disability; 2300 IDC, AMT and
REFs other than REF*1L; 2310 providers; 2320/2330 coordination of benefits; 2700/2750
reporting categories. A member-level cancellation (INS03 = 024) sent without an HD names no
coverage line, so it makes no Coverage version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medlake.silver.mappings.x12_common import (
    GENDERS,
    HL7_TERMINOLOGY,
    SSN_SYSTEM,
    TAX_ID_SYSTEM,
    SetMapper,
    concept,
    human_name,
    member_identifier,
    payer_organization,
    postal_address,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import Loop, Segment

EXT = "https://medlake.dev/fhir/StructureDefinition"
INSURANCE_LINE_SYSTEM = "https://medlake.dev/fhir/x12-insurance-line"
"""HD03 (X12 element 1205: HLT health, DEN dental, VIS vision, PDG prescription drug, HMO …)."""
RELATIONSHIP_SYSTEM = "https://medlake.dev/fhir/x12-individual-relationship"
"""INS02 (X12 element 1069: 18 self, 01 spouse, 19 child, 53 life partner …) as sent."""

MAINTENANCE = {
    "001": "active", "021": "active", "025": "active", "026": "active", "030": "active", "032": "active",
    "024": "cancelled", "002": "cancelled",
}  # fmt: skip
"""Maintenance type code (INS03, HD01) → Coverage.status."""
RELATIONSHIPS = {"18": "self", "01": "spouse", "19": "child", "09": "child", "10": "child", "17": "child",
                 "03": "parent", "16": "parent", "53": "common"}  # fmt: skip
"""INS02 → subscriber-relationship (any other code: `other`)."""
MARITAL = {"B": "T", "D": "D", "I": "S", "M": "M", "R": "UNK", "S": "L", "U": "U", "W": "W", "X": "L"}
"""DMG04 (X12 element 1067) → v3-MaritalStatus."""
TELECOM = {"HP": ("phone", "home"), "WP": ("phone", "work"), "TE": ("phone", None), "CP": ("phone", "mobile"),
           "BN": ("pager", None), "FX": ("fax", None), "EM": ("email", None), "AP": ("phone", None)}  # fmt: skip
"""PER communication number qualifiers → ContactPoint system and use."""


def map_set(m: SetMapper) -> None:
    insurer_loop, sponsor_loop = m.tset.find("1000B"), m.tset.find("1000A")
    payer_id, payer = insurer(m, insurer_loop)
    sponsor_ref = sponsor(m, sponsor_loop)
    subscribers: dict[str, str] = {}
    """REF*0F → the subscriber's Patient key (subscribers come before their dependents)."""
    for member in m.tset.find_all("2000"):
        ins = member.trigger
        subscriber_id = ref(member, "0F")
        key = patient(m, member, payer_id)
        if key is None:
            continue
        if ins.get(1) == "Y" and subscriber_id:
            subscribers[subscriber_id] = key
        holder = key if ins.get(1) == "Y" else subscribers.get(subscriber_id or "")
        for n, hd_loop in enumerate(member.find_all("2300"), 1):
            coverage(m, hd_loop, n, (key, holder), payer, sponsor_ref)


def ref(loop: Loop, qualifier: str) -> str | None:
    """REF02 of the loop's first REF with REF01 = `qualifier`."""
    return next((r.get(2) for r in loop.all("REF") if r.get(1) == qualifier and r.get(2)), None)


def insurer(m: SetMapper, loop: Loop | None) -> tuple[str, dict[str, Any] | None]:
    """N1*IN → the payer id and the payer Organization's reference."""
    n1 = loop.trigger if loop is not None else None
    if n1 is None or not (n1.get(4) or n1.get(2)):
        m.problem(loop, "N104", "N1*IN (insurer) is missing or names no one: the Coverages have no payor")
        return "", None
    payer_id = n1.get(4) or f"name|{n1.get(2)}"
    return payer_id, payer_organization(m, payer_id, n1.get(2))


def sponsor(m: SetMapper, loop: Loop | None) -> dict[str, Any] | None:
    """N1*P5 → Organization `sponsor|<N104>` (N103 FI: a tax id)."""
    if loop is None:
        return None
    n1 = loop.trigger
    ident, name = n1.get(4), n1.get(2)
    if not ident and not name:
        return None
    key = f"sponsor|{ident}" if ident else f"sponsor|name|{name}"
    if m.find("Organization", key) is None:
        body: dict[str, Any] = {}
        if ident:
            system = TAX_ID_SYSTEM if n1.get(3) == "FI" else f"https://medlake.dev/fhir/sid/x12-id/{n1.get(3) or 'ZZ'}"
            body["identifier"] = [{"system": system, "value": ident}]
        if name:
            body["name"] = name
        m.add("Organization", key, body)
    return m.reference("Organization", key, name)


# -- members -------------------------------------------------------------------------------------
def patient(m: SetMapper, member: Loop, payer_id: str) -> str | None:
    """2000 + 2100A → Patient; its key (None when the member has no name loop)."""
    name_loop = member.find("2100A")
    if name_loop is None:
        m.problem(member, "NM1", "the member has no NM1*IL (2100A): no Patient or Coverage is made")
        return None
    nm1, ins = name_loop.trigger, member.trigger
    member_id = nm1.get(9)
    if member_id:
        key = f"{payer_id}|{member_id}"
    else:
        key = f"{payer_id}|{ref(member, '0F') or ''}|{ins.get(2) or ''}|{nm1.get(3) or ''}|{nm1.get(4) or ''}"
    body: dict[str, Any] = {}
    if member_id:
        body["identifier"] = [
            {"type": concept(f"{HL7_TERMINOLOGY}/v2-0203", "SS"), "system": SSN_SYSTEM, "value": member_id}
            if nm1.get(8) == "34"
            else member_identifier(payer_id, member_id)
        ]
    name = human_name(nm1)
    if name:
        body["name"] = [{"use": "official", **name}]
    telecom = contacts(name_loop.all("PER"))
    if telecom:
        body["telecom"] = telecom
    demographics(m, name_loop, body)
    if ins.get(11) == "D8" and ins.get(12):
        died = m.date(member, "INS12", ins.get(12))
        if died:
            body["deceasedDateTime"] = died
    addr = postal_address(name_loop.segment("N3"), name_loop.segment("N4"), "home")
    if addr:
        body["address"] = [addr]
    m.add("Patient", key, body)
    return key


def contacts(pers: list[Segment]) -> list[dict[str, Any]]:
    """PER03/04, 05/06, 07/08 (qualifier, number) → ContactPoints."""
    out: list[dict[str, Any]] = []
    for per in pers:
        for k in (3, 5, 7):
            qualifier, value = per.get(k), per.get(k + 1)
            if not value or qualifier not in TELECOM:
                continue
            system, use = TELECOM[qualifier or ""]
            point = {"system": system, "value": value}
            if use:
                point["use"] = use
            out.append(point)
    return out


def demographics(m: SetMapper, loop: Loop, body: dict[str, Any]) -> None:
    """DMG02 birth date (D8), DMG03 gender, DMG04 marital status."""
    dmg = loop.segment("DMG")
    if dmg is None:
        return
    sex = dmg.get(3)
    if sex in GENDERS:
        body["gender"] = GENDERS[sex or ""]
    elif sex:
        m.problem(loop, "DMG03", f"`{sex}` is not a gender code: expected F, M or U")
    if dmg.get(1) in ("D8", None):
        born = m.date(loop, "DMG02", dmg.get(2))
        if born:
            body["birthDate"] = born
    status = dmg.get(4)
    if status in MARITAL:
        body["maritalStatus"] = concept(f"{HL7_TERMINOLOGY}/v3-MaritalStatus", MARITAL[status or ""])
    elif status:
        m.problem(loop, "DMG04", f"`{status}` is not a marital status code: expected B, D, I, M, R, S, U, W or X")


# -- coverage ------------------------------------------------------------------------------------
def coverage(
    m: SetMapper, loop: Loop, n: int, keys: tuple[str, str | None],
    payer: dict[str, Any] | None, sponsor_ref: dict[str, Any] | None,
) -> None:  # fmt: skip
    """2300 HD → Coverage (`keys` = the member's and the subscriber's Patient keys)."""
    if payer is None:
        return
    key, holder = keys
    hd = loop.trigger
    member = loop.parent
    ins = member.trigger if member is not None else None
    code = hd.get(1) or (ins.get(3) if ins is not None else None) or ""
    status = MAINTENANCE.get(code)
    if status is None:
        element = "HD01" if hd.get(1) else "INS03"
        m.problem(loop, element, f"`{code}` is not a maintenance type code: expected 001, 002, 021, 024, 025, 026, 030 or 032")
    body: dict[str, Any] = {}
    extensions = [
        {"url": f"{EXT}/{name}", "valueCode": value}
        for name, value in (("x12-maintenance-type", code), ("x12-coverage-level", hd.get(5)))
        if value
    ]
    if extensions:
        body["extension"] = extensions
    body["status"] = status or "active"
    line = hd.get(3)
    if line:
        body["type"] = concept(INSURANCE_LINE_SYSTEM, line)
    if sponsor_ref is not None:
        body["policyHolder"] = sponsor_ref
    if holder:
        body["subscriber"] = m.reference("Patient", holder)
    subscriber_id = ref(member, "0F") if member is not None else None
    if subscriber_id:
        body["subscriberId"] = subscriber_id
    body["beneficiary"] = m.reference("Patient", key)
    relationship = ins.get(2) if ins is not None else None
    if relationship:
        body["relationship"] = relationship_concept(relationship)
    period = benefit_period(m, loop)
    if period:
        body["period"] = period
    body["payor"] = [payer]
    classes = plan_classes(loop, member)
    if classes:
        body["class"] = classes
    m.add("Coverage", f"{key}|{line or f'#{n}'}", body, patient_key=key)


def relationship_concept(code: str) -> dict[str, Any]:
    """INS02 → subscriber-relationship, with the X12 code as sent."""
    return {"coding": [
        {"system": f"{HL7_TERMINOLOGY}/subscriber-relationship", "code": RELATIONSHIPS.get(code, "other")},
        {"system": RELATIONSHIP_SYSTEM, "code": code},
    ]}  # fmt: skip


def benefit_period(m: SetMapper, loop: Loop) -> dict[str, str] | None:
    """DTP*348 (benefit begin) / DTP*349 (benefit end) → Coverage.period."""
    out: dict[str, str] = {}
    for dtp in loop.all("DTP"):
        qualifier = dtp.get(1)
        if qualifier in ("348", "349"):
            value = m.date(loop, "DTP03", dtp.get(3))
            if value:
                out["start" if qualifier == "348" else "end"] = value
    return out or None


def plan_classes(loop: Loop, member: Loop | None) -> list[dict[str, Any]]:
    """HD04 (else HD03) as the `plan` class; REF*1L (2300, else 2000) as the `group` class."""
    hd = loop.trigger
    out = []
    plan = hd.get(4) or hd.get(3)
    if plan:
        out.append({"type": concept(f"{HL7_TERMINOLOGY}/coverage-class", "plan"), "value": plan})
    group = ref(loop, "1L") or (ref(member, "1L") if member is not None else None)
    if group:
        out.append({"type": concept(f"{HL7_TERMINOLOGY}/coverage-class", "group"), "value": group})
    return out
