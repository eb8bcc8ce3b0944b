"""270 (X279 eligibility inquiry) → CoverageEligibilityRequest; 271 (its response) →
CoverageEligibilityResponse with the benefits (EB) as insurance[].item[], a Coverage and the
member's Patient; the payer (2100A) and the information receiver (2100B) as Organizations or
Practitioners.

One request or response per subject: each dependent (2000D), and each subscriber (2000C) that
has no dependent loop or has inquiries / benefits (2110C) of its own.

Keys (each resource's source id):

- trace: the subject's TRN (270: TRN01 = 1; 271: TRN01 = 2, the 270's trace echoed), else
  its subscriber's (then `|HL<HL01>` is added for a dependent): `<TRN03>|<TRN02>`; without any
  TRN `bht|<BHT03>|HL<HL01>`. The request and the response of one inquiry share it, and
  the response's `request` names the request by its trace number (TRN02 under the system
  `eligibility-trace-number/<TRN03>`), a logical reference: the 270 is often not loaded;
- payer id: 2100A NM109, else `name|<NM103>`; the payer Organization `payer|<payer id>`;
- information receiver: the NPI (NM108 XX), else `<NM108>|<NM109>`, else the name (as the
  837's providers); NM102 = 1 a Practitioner, 2 an Organization;
- Patient: the subscriber `<payer id>|<NM109>` (as the 837's), a dependent `<payer id>|<the
  subscriber's NM109>|dependent|<NM103>|<NM104>|<DMG02>`; Coverage (271): the patient's key.

271: outcome `complete`, `error` when AAA (request validation) segments reject the request
and no EB came back, `partial` with both; each AAA is an error (AAA03, reject reason).
insurance[].inforce: true when an EB01 is 1–5 (active coverage), false when 6–8 (inactive);
benefitPeriod (and Coverage.period): DTP*346/347 (plan begin/end), else DTP*291 (plan), else
DTP*356/357 (eligibility begin/end). Per EB and service type (EB03 repeats) an item:
category EB03 (X12 service type), productOrService EB13, name EB05, network EB12 (Y in, N
out), unit EB02 (coverage level), term EB06 (time period), excluded (EB01 = I),
authorizationRequired EB11, benefits: EB07 money, EB08 percent, EB10 quantity, typed by EB01
(A co-insurance `copay-percent`, B co-payment `copay`, C deductible `deductible`; always
also the EB01 code as sent).

Not mapped: AAA01 (valid request indicator) and AAA04 (follow-up action), REF other than
REF*18/6P/1L, N3/N4 of the provider, PRV, INS (except INS02 on a dependent), HI, MPI, DTP
other than those above, EB04 (insurance type), EB09 qualifiers (kept only with the
quantity), HSD, 2115 III, MSG, 2120 benefit-related entities, LS/LE.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from medlake.silver.mappings.x12_common import (
    GENDERS,
    HL7_TERMINOLOGY,
    SetMapper,
    X12ValueError,
    ancestor,
    concept,
    decimal,
    group_date,
    human_name,
    member_identifier,
    name_loop,
    payer_organization,
    postal_address,
    product_coding,
    provider_party,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import Loop, Segment

SERVICE_TYPE_SYSTEM = "https://x12.org/codes/service-type-codes"
TRACE_SYSTEM = "https://medlake.dev/fhir/sid/eligibility-trace-number"
"""TRN02 of the 270 (echoed in the 271), under `/<TRN03>` when TRN03 is given."""
REJECT_SYSTEM = "https://medlake.dev/fhir/x12-reject-reason"
"""AAA03 (X12 element 901: 72 invalid member id, 75 subscriber not found …)."""
BENEFIT_SYSTEM = "https://medlake.dev/fhir/x12-eligibility-benefit"
"""EB01 (X12 element 1390: 1 active coverage, 6 inactive, A co-insurance, C deductible …)."""
COVERAGE_LEVEL_SYSTEM = "https://medlake.dev/fhir/x12-coverage-level"
"""EB02 (X12 element 1207: IND individual, FAM family, EMP employee only …)."""
TIME_PERIOD_SYSTEM = "https://medlake.dev/fhir/x12-time-period"
"""EB06 (X12 element 615: 23 calendar year, 29 remaining, 32 lifetime …)."""
QUANTITY_SYSTEM = "https://medlake.dev/fhir/x12-quantity-qualifier"

ACTIVE = frozenset("12345")
INACTIVE = frozenset("678")
BENEFIT_TYPES = {"A": "copay-percent", "B": "copay", "C": "deductible"}
UNITS = {"IND": "individual", "FAM": "family"}
TERMS = {"23": "annual", "7": "day", "32": "lifetime"}
NETWORKS = {"Y": "in", "N": "out"}
PURPOSE = ["validation", "benefits"]


@dataclass(frozen=True)
class Subject:
    """Whom one request or response is about, and the parties around it."""

    loop: Loop
    """2000C or 2000D."""
    names: Loop
    """Its 2100C / 2100D."""
    key: str
    patient_key: str
    payer: dict[str, Any] | None
    payer_id: str
    receiver: dict[str, Any] | None


def map_set(m: SetMapper) -> None:
    response = m.tset.family == "271"
    for subject in subjects(m, response):
        if response:
            eligibility_response(m, subject)
        else:
            eligibility_request(m, subject)


# -- subjects and parties -------------------------------------------------------------------------
def subjects(m: SetMapper, response: bool) -> list[Subject]:
    """Each dependent (2000D), and each subscriber (2000C) without one or with inquiries or
    benefits (2110C) of its own, in file order."""
    out = []
    for subscriber in m.tset.find_all("2000C"):
        dependents = [c for c in subscriber.children if c.id == "2000D"]
        names = name_loop(subscriber)
        own = names is not None and any(c.id == "2110C" for c in names.children)
        for loop in ([subscriber] if own or not dependents else []) + dependents:
            subject = make_subject(m, loop, subscriber, response)
            if subject is not None:
                out.append(subject)
    return out


def make_subject(m: SetMapper, loop: Loop, subscriber: Loop, response: bool) -> Subject | None:
    names = name_loop(loop)
    if names is None:
        m.problem(loop, "NM1", f"the {'dependent' if loop.id == '2000D' else 'subscriber'} has no name loop (2100): it is not mapped")
        return None
    source = ancestor(subscriber, "2000A")
    payer_names = name_loop(source) if source is not None else None
    payer_id, payer = payer_party(m, payer_names)
    receiver_loop = ancestor(subscriber, "2000B")
    receiver_names = name_loop(receiver_loop) if receiver_loop is not None else None
    receiver = provider_party(m, receiver_names.trigger) if receiver_names is not None else None
    key = trace_key(m, loop, subscriber, response)
    patient_key = patient(m, payer_id, loop, names, subscriber)
    return Subject(loop, names, key, patient_key, payer, payer_id, receiver)


def trace_key(m: SetMapper, loop: Loop, subscriber: Loop, response: bool) -> str:
    wanted = "2" if response else "1"
    for at in (loop, subscriber):
        trns = at.all("TRN")
        trn = next((t for t in trns if t.get(1) == wanted), trns[0] if trns else None)
        if trn is not None and trn.get(2):
            key = f"{trn.get(3) or ''}|{trn.get(2)}"
            return key if at is loop else f"{key}|HL{loop.hl[0] if loop.hl else ''}"
    bht = m.tset.loops.segment("BHT")
    return f"bht|{(bht.get(3) if bht is not None else None) or ''}|HL{loop.hl[0] if loop.hl else ''}"


def payer_party(m: SetMapper, names: Loop | None) -> tuple[str, dict[str, Any] | None]:
    """2100A NM1 → the payer id and the payer Organization's reference."""
    if names is None:
        m.problem(None, "NM1", "the information source (2000A/2100A) is missing: no insurer")
        return "", None
    nm1 = names.trigger
    payer_id = nm1.get(9) or f"name|{nm1.get(3) or ''}"
    return payer_id, payer_organization(m, payer_id, nm1.get(3))


def patient(m: SetMapper, payer_id: str, loop: Loop, names: Loop, subscriber: Loop) -> str:
    """2100C / 2100D → Patient (name, member id, DMG, N3/N4); its key."""
    nm1 = names.trigger
    dmg = names.segment("DMG")
    sub_names = name_loop(subscriber)
    member = sub_names.trigger.get(9) if sub_names is not None else None
    if loop.id == "2000D":
        born = (dmg.get(2) if dmg is not None else None) or ""
        key = f"{payer_id}|{member or ''}|dependent|{nm1.get(3) or ''}|{nm1.get(4) or ''}|{born}"
    else:
        key = f"{payer_id}|{member}" if member else f"{payer_id}|name|{nm1.get(3) or ''}|{nm1.get(4) or ''}"
    body: dict[str, Any] = {}
    if loop.id == "2000C" and member:
        body["identifier"] = [member_identifier(payer_id, member)]
    name = human_name(nm1)
    if name:
        body["name"] = [{"use": "official", **name}]
    if dmg is not None:
        sex = dmg.get(3)
        if sex in GENDERS:
            body["gender"] = GENDERS[sex or ""]
        elif sex:
            m.problem(names, "DMG03", f"`{sex}` is not a gender code: expected F, M or U")
        born_on = m.date(names, "DMG02", dmg.get(2)) if dmg.get(1) in ("D8", None) else None
        if born_on:
            body["birthDate"] = born_on
    addr = postal_address(names.segment("N3"), names.segment("N4"), "home")
    if addr:
        body["address"] = [addr]
    m.add("Patient", key, body)
    return key


def created(m: SetMapper) -> str | None:
    bht = m.tset.loops.segment("BHT")
    return (m.date(None, "BHT04", bht.get(4)) if bht is not None else None) or group_date(m)


def trace_identifier(subject: Subject) -> list[dict[str, Any]]:
    originator, _, trace = subject.key.partition("|")
    if subject.key.startswith("bht|") or not trace:
        return []
    trace = trace.split("|HL", 1)[0]
    system = f"{TRACE_SYSTEM}/{quote(originator, safe='')}" if originator else TRACE_SYSTEM
    return [{"system": system, "value": trace}]


# -- 270 --------------------------------------------------------------------------------------------
def eligibility_request(m: SetMapper, subject: Subject) -> None:
    body: dict[str, Any] = {}
    identifier = trace_identifier(subject)
    if identifier:
        body["identifier"] = identifier
    body["status"] = "active"
    body["purpose"] = [*PURPOSE]
    body["patient"] = m.reference("Patient", subject.patient_key)
    period = dates(m, subject.names, ("291", "472"))
    if period and period.get("end", period["start"]) == period["start"]:
        body["servicedDate"] = period["start"]
    elif period:
        body["servicedPeriod"] = period
    when = created(m)
    if when:
        body["created"] = when
    if subject.receiver is not None:
        body["provider"] = subject.receiver
    if subject.payer is not None:
        body["insurer"] = subject.payer
    items = inquiries(m, subject)
    if items:
        body["item"] = items
    m.add("CoverageEligibilityRequest", subject.key, body, patient_key=subject.patient_key)


def inquiries(m: SetMapper, subject: Subject) -> list[dict[str, Any]]:
    """Each EQ (2110C/D) → items: one per EQ01 service type, or one for EQ02's procedure."""
    out = []
    for eq_loop in (c for c in subject.names.children if c.id.startswith("2110")):
        eq = eq_loop.trigger
        product = product_coding(eq.get(2, 1), eq.get(2, 2))
        for code in eq.repetitions(1) or [""]:
            item: dict[str, Any] = {}
            if code:
                item["category"] = concept(SERVICE_TYPE_SYSTEM, code)
            if product is not None:
                item["productOrService"] = {"coding": [product]}
            if item:
                out.append(item)
    return out


def dates(m: SetMapper, loop: Loop, qualifiers: tuple[str, ...]) -> dict[str, str] | None:
    """The first DTP with one of `qualifiers` (D8 or RD8) as a Period."""
    for dtp in loop.all("DTP"):
        if dtp.get(1) in qualifiers:
            return m.period(loop, "DTP03", dtp.get(2), dtp.get(3))
    return None


# -- 271 --------------------------------------------------------------------------------------------
def eligibility_response(m: SetMapper, subject: Subject) -> None:
    benefit_loops = [c for c in subject.names.children if c.id.startswith("2110")]
    errors = rejections(subject)
    body: dict[str, Any] = {}
    identifier = trace_identifier(subject)
    if identifier:
        body["identifier"] = identifier
    body["status"] = "active"
    body["purpose"] = [*PURPOSE]
    body["patient"] = m.reference("Patient", subject.patient_key)
    when = created(m)
    if when:
        body["created"] = when
    if subject.receiver is not None:
        body["requestor"] = subject.receiver
    body["request"] = request_reference(subject)
    body["outcome"] = ("partial" if benefit_loops else "error") if errors else "complete"
    if subject.payer is not None:
        body["insurer"] = subject.payer
    if benefit_loops and subject.payer is not None:
        body["insurance"] = [insurance(m, subject, benefit_loops)]
    if errors:
        body["error"] = [{"code": concept(REJECT_SYSTEM, code)} for code in errors]
    m.add("CoverageEligibilityResponse", subject.key, body, patient_key=subject.patient_key)


def request_reference(subject: Subject) -> dict[str, Any]:
    """The 270 this answers, by its trace number: a logical reference (the 270 is often not
    loaded where the 271 is)."""
    identifier = trace_identifier(subject)
    if not identifier:
        return {"type": "CoverageEligibilityRequest", "display": "the 270 sent no trace number (TRN)"}
    return {"type": "CoverageEligibilityRequest", "identifier": identifier[0]}


def rejections(subject: Subject) -> list[str]:
    """AAA03 (reject reasons) of the source, receiver and subscriber levels above the subject
    and of the subject's own loops (its name loop and its benefits), in file order."""
    above: list[Loop] = []
    up = subject.loop.parent
    while up is not None and up.id != "ST":
        above.insert(0, up)
        up = up.parent
    segs: list[Segment] = []
    for at in [*above, subject.loop]:
        segs += at.segments
        names = name_loop(at)
        if names is not None:
            segs += names.segments
    for benefit in subject.names.children:
        segs += benefit.all_segments
    return [s.get(3) or "" for s in segs if s.id == "AAA" and s.get(3)]


def insurance(m: SetMapper, subject: Subject, benefit_loops: list[Loop]) -> dict[str, Any]:
    ebs = [loop.trigger for loop in benefit_loops]
    period = plan_period(m, subject.names)
    out: dict[str, Any] = {"coverage": coverage(m, subject, period)}
    status = {eb.get(1) for eb in ebs}
    if status & ACTIVE:
        out["inforce"] = True
    elif status & INACTIVE:
        out["inforce"] = False
    if period:
        out["benefitPeriod"] = period
    items = [item for loop in benefit_loops for item in benefit_items(m, loop)]
    if items:
        out["item"] = items
    return out


def plan_period(m: SetMapper, names: Loop) -> dict[str, str] | None:
    """DTP*346/347 (plan begin/end), else DTP*291 (plan), else DTP*356/357 (eligibility)."""
    found = {dtp.get(1): dtp for dtp in names.all("DTP")}
    for begin, end in (("346", "347"), ("356", "357")):
        out: dict[str, str] = {}
        for qualifier, side in ((begin, "start"), (end, "end")):
            dtp = found.get(qualifier)
            period = m.period(names, "DTP03", dtp.get(2), dtp.get(3)) if dtp is not None else None
            if period:
                out[side] = period["start"] if side == "start" else period.get("end", period["start"])
        if out:
            return out
        if begin == "346" and "291" in found:
            return m.period(names, "DTP03", found["291"].get(2), found["291"].get(3))
    return None


def coverage(m: SetMapper, subject: Subject, period: dict[str, str] | None) -> dict[str, Any]:
    """The member's Coverage as the 271 states it (key: the patient's)."""
    names = subject.names
    subscriber = subject.loop if subject.loop.id == "2000C" else subject.loop.parent
    sub_names = name_loop(subscriber) if subscriber is not None else None
    member = sub_names.trigger.get(9) if sub_names is not None else None
    body: dict[str, Any] = {"status": "active"}
    if member:
        body["identifier"] = [member_identifier(subject.payer_id, member)]
        body["subscriberId"] = member
    body["beneficiary"] = m.reference("Patient", subject.patient_key)
    if subject.loop.id == "2000C":
        body["relationship"] = concept(f"{HL7_TERMINOLOGY}/subscriber-relationship", "self")
    if period:
        body["period"] = period
    if subject.payer is not None:
        body["payor"] = [subject.payer]
    classes = plan_classes(names, sub_names)
    if classes:
        body["class"] = classes
    m.add("Coverage", subject.patient_key, body, patient_key=subject.patient_key)
    return m.reference("Coverage", subject.patient_key)


def plan_classes(names: Loop, sub_names: Loop | None) -> list[dict[str, Any]]:
    """REF*18 (plan number) → class `plan`; REF*6P / REF*1L (group number) → class `group`;
    the subject's own REFs first, then its subscriber's; REF03 as the class name."""
    refs = [*names.all("REF"), *(sub_names.all("REF") if sub_names is not None and sub_names is not names else [])]
    found: dict[str, dict[str, Any]] = {}
    for ref_seg in refs:
        kind = {"18": "plan", "6P": "group", "1L": "group"}.get(ref_seg.get(1) or "")
        value = ref_seg.get(2)
        if kind and value and kind not in found:
            entry: dict[str, Any] = {"type": concept(f"{HL7_TERMINOLOGY}/coverage-class", kind), "value": value}
            if ref_seg.get(3):
                entry["name"] = ref_seg.get(3)
            found[kind] = entry
    return [found[k] for k in ("plan", "group") if k in found]


def benefit_items(m: SetMapper, loop: Loop) -> list[dict[str, Any]]:
    """One EB → an item per service type (EB03 repeats), or one item without a category."""
    eb = loop.trigger
    common: dict[str, Any] = {}
    product = product_coding(eb.get(13, 1), eb.get(13, 2))
    if product is not None:
        common["productOrService"] = {"coding": [product]}
    if eb.get(1) == "I":
        common["excluded"] = True
    if eb.get(5):
        common["name"] = eb.get(5)
    network = NETWORKS.get(eb.get(12) or "")
    if network:
        common["network"] = concept(f"{HL7_TERMINOLOGY}/benefit-network", network)
    level = eb.get(2)
    if level:
        codings = [{"system": COVERAGE_LEVEL_SYSTEM, "code": level}]
        if level in UNITS:
            codings.insert(0, {"system": f"{HL7_TERMINOLOGY}/benefit-unit", "code": UNITS[level]})
        common["unit"] = {"coding": codings}
    period = eb.get(6)
    if period:
        codings = [{"system": TIME_PERIOD_SYSTEM, "code": period}]
        if period in TERMS:
            codings.insert(0, {"system": f"{HL7_TERMINOLOGY}/benefit-term", "code": TERMS[period]})
        common["term"] = {"coding": codings}
    benefits = amounts(m, loop, eb)
    if benefits:
        common["benefit"] = benefits
    if eb.get(11) in ("Y", "N"):
        common["authorizationRequired"] = eb.get(11) == "Y"
    categories = eb.repetitions(3)
    if not categories:
        return [common] if common else []
    return [{"category": concept(SERVICE_TYPE_SYSTEM, code), **common} for code in categories]


def amounts(m: SetMapper, loop: Loop, eb: Segment) -> list[dict[str, Any]]:
    """EB07 (money), EB08 (percent, as a whole percent when it is one), EB10 (quantity)."""
    code = eb.get(1) or ""
    kind: dict[str, Any] = {"coding": [{"system": BENEFIT_SYSTEM, "code": code}]}
    if code in BENEFIT_TYPES:
        kind = {"coding": [{"system": f"{HL7_TERMINOLOGY}/benefit-type", "code": BENEFIT_TYPES[code]}, *kind["coding"]]}
    out: list[dict[str, Any]] = []
    money = m.money(loop, "EB07", eb.get(7))
    if money is not None:
        out.append({"type": kind, "allowedMoney": money})
    percent = value_of(m, loop, "EB08", eb.get(8))
    if percent is not None:
        whole = percent * 100
        if whole == whole.to_integral_value() and whole >= 0:
            out.append({"type": kind, "allowedUnsignedInt": int(whole)})
        else:
            out.append({"type": kind, "allowedString": f"{eb.get(8)}"})
    quantity = value_of(m, loop, "EB10", eb.get(10))
    if quantity is not None:
        typed = {"coding": [*kind["coding"], {"system": QUANTITY_SYSTEM, "code": eb.get(9) or ""}]} if eb.get(9) else kind
        if quantity == quantity.to_integral_value() and quantity >= 0:
            out.append({"type": typed, "allowedUnsignedInt": int(quantity)})
        else:
            out.append({"type": typed, "allowedString": f"{eb.get(10)}"})
    return out


def value_of(m: SetMapper, loop: Loop, element: str, text: str | None) -> Decimal | None:
    try:
        return decimal(text)
    except X12ValueError as err:
        m.problem(loop, element, str(err))
        return None
