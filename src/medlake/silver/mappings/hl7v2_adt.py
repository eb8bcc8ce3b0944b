"""ADT (admit, discharge, transfer, registration, merge …) → FHIR, beyond Patient and Encounter.

The dispatcher has mapped PID (+ PD1, NK1) and PV1 (+ PV2) already, the event's effect on the
Encounter included (`hl7v2_encounter`). Here:

- merges (A34, A36, A39, A40, and the identifier changes A46, A47): MRG-1 (else MRG-4) names
  the patient merged away. The surviving Patient (PID) gets a `link` of type `replaces` to it;
  the merged Patient (keyed by MRG-1 as PID-3 is) is written `active: false` with a `link` of
  type `replaced-by` to the survivor. Each PID/MRG pair of the message is one merge.
- A24 (link patients): the Patients of the two PIDs link to each other (`seealso`); A37
  (unlink) writes the two Patients without it.
- the segments other families carry too, mapped by the functions here that SIU and DFT use:
  DG1 → Condition, PR1 → Procedure, AL1 → AllergyIntolerance, IN1 (+ IN2) → Coverage.

Keys: Condition = the encounter (else the patient) + the DG1-3 code (DG1-1 when there is no
code); Procedure = encounter/patient + PR1-3 code + PR1-5 time; AllergyIntolerance = patient +
AL1-3 allergen; Coverage = patient + payer + member id.

Not mapped: ROL, GT1, IN3, ACC, UB1/UB2, DRG, DB1, PDA, OBX (observations belong to the
observation mapping), MRG in the account and visit moves (A41, A42, A44, A45, A49 … A51);
DG1-7 … DG1-14, DG1-17/18; PR1-7, PR1-9/10, PR1-13/14, PR1-16 … PR1-18; IN1 fields other
than those named in `coverage`.
"""

from __future__ import annotations

from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import (
    MessageMapper,
    code_system,
    following,
    identifier_key,
    patient_key,
    with_table,
)
from medlake.silver.mappings.hl7v2_encounter import event_of
from medlake.silver.mappings.hl7v2_patient import administrative_sex, map_patient

MERGE_EVENTS = frozenset({"A34", "A36", "A39", "A40", "A46", "A47"})
"""Events whose MRG names a patient (identifier) that the PID's patient replaces."""

TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"


def map_message(m: MessageMapper) -> None:
    event = event_of(m)
    if event in MERGE_EVENTS:
        map_merges(m)
    elif event == "A24":
        map_link(m)
    map_clinical(m)


def map_clinical(m: MessageMapper, procedures: bool = True) -> None:
    """DG1, PR1 (unless the caller maps them), AL1 and IN1 of any message with a patient."""
    if m.patient_key is None:
        return
    for dg1 in m.msg.all("DG1"):
        condition(m, dg1)
    for pr1 in m.msg.all("PR1") if procedures else ():
        procedure(m, pr1)
    for al1 in m.msg.all("AL1"):
        allergy(m, al1)
    for in1 in m.msg.all("IN1"):
        coverage(m, in1)


# -- merges and links -----------------------------------------------------------------------------
def _other_patient(m: MessageMapper, pid: Segment) -> str | None:
    """Map a PID after the first (the dispatcher maps the first); its patient key."""
    key = patient_key(pid, m.msg)
    if key is None:
        m.problem(pid, "3", "PID-3 (patient identifier list) is empty: no Patient can be made")
        return None
    if key != m.patient_key:
        first = m.patient_key
        m.patient_key = key
        try:
            map_patient(m, pid)
        finally:
            m.patient_key = first
    return key


def map_merges(m: MessageMapper) -> None:
    first = m.msg.segment("PID")
    for pid in m.msg.all("PID"):
        mrg = next(iter(following(m.msg, pid, "MRG", ("PID",))), None)
        if mrg is None:
            continue
        survivor = m.patient_key if first is not None and pid.index == first.index else _other_patient(m, pid)
        if survivor is None:
            continue
        merged = identifier_key(mrg.repetitions(1) or mrg.repetitions(4), m.msg)
        if merged is None:
            m.problem(mrg, "1", "MRG-1 (prior patient identifier list) is empty: the merged patient is unknown")
            continue
        if merged == survivor:
            m.problem(mrg, "1", f"MRG-1 names the surviving patient itself (`{merged}`): nothing to merge")
            continue
        m.use(mrg)
        kept = m.find("Patient", survivor)
        if kept is not None:
            kept.setdefault("link", []).append({"other": m.reference("Patient", merged), "type": "replaces"})
        body: dict[str, Any] = {}
        ids = [i for i in (m.identifier(r) for f in (1, 4) for r in mrg.repetitions(f)) if i]
        if ids:
            body["identifier"] = ids
        body["active"] = False
        names = [n for n in (m.human_name(r) for r in mrg.repetitions(7)) if n]
        if names:
            body["name"] = names
        body["link"] = [{"other": m.reference("Patient", survivor), "type": "replaced-by"}]
        m.add("Patient", merged, body)


def map_link(m: MessageMapper) -> None:
    """A24: the first two PIDs are the same person; their Patients `seealso` each other."""
    pids = m.msg.all("PID")
    if len(pids) < 2 or m.patient_key is None:
        return
    other = _other_patient(m, pids[1])
    if other is None or other == m.patient_key:
        return
    for this, that in ((m.patient_key, other), (other, m.patient_key)):
        body = m.find("Patient", this)
        if body is not None:
            body.setdefault("link", []).append({"other": m.reference("Patient", that), "type": "seealso"})


# -- DG1, PR1, AL1 ----------------------------------------------------------------------------------
def _context(m: MessageMapper) -> str:
    """The key prefix of what belongs to the visit (else to the patient)."""
    return f"encounter|{m.encounter_key}" if m.encounter_key else f"patient|{m.patient_key}"


def _code(m: MessageMapper, seg: Segment, n: int, method: int | None, text: int | None) -> dict[str, Any] | None:
    """A CE/CWE code; a coding without a system takes the coding method of field `method`
    (DG1-2, PR1-2), a concept without text the description of field `text`."""
    concept = m.codeable(seg.field(n))
    fallback = code_system(seg.get(method), m.ctx.system) if method else None
    if concept and fallback and "coding" in concept:
        concept = {**concept, "coding": [c if "system" in c else {"system": fallback, **c} for c in concept["coding"]]}
    description = seg.get(text) if text else None
    if description and not (concept and concept.get("text")):
        concept = {**(concept or {}), "text": description}
    return concept


def _code_key(concept: dict[str, Any] | None) -> str | None:
    if not concept:
        return None
    if "coding" in concept:
        coding = concept["coding"][0]
        return f"{coding.get('system', '')}|{coding['code']}"
    return f"text|{concept['text']}"


def _status(code: str, display: str, system: str) -> dict[str, Any]:
    return {"coding": [{"system": f"{TERMINOLOGY}/{system}", "code": code, "display": display}]}


DIAGNOSIS_ROLE = {"A": ("AD", "Admission diagnosis"), "F": ("DD", "Discharge diagnosis")}
"""Diagnosis type (table 0052: A admitting, W working, F final) → diagnosis-role."""


def condition(m: MessageMapper, dg1: Segment) -> None:
    """DG1 → Condition (encounter-diagnosis), listed in the Encounter's `diagnosis` when this
    message wrote the Encounter."""
    code = _code(m, dg1, 3, 2, 4)
    what = _code_key(code) or (f"#{dg1.get(1)}" if dg1.get(1) else None)
    if what is None:
        m.problem(dg1, "3", "DG1-3 (diagnosis code), DG1-4 and DG1-1 are empty: no Condition can be made")
        return
    m.use(dg1)
    body: dict[str, Any] = {}
    ident = m.entity_identifier(dg1.field(20))
    if ident:
        body["identifier"] = [ident]
    if dg1.get(21) == "D":  # action code: delete
        body["verificationStatus"] = _status("entered-in-error", "Entered in Error", "condition-ver-status")
    else:
        body["clinicalStatus"] = _status("active", "Active", "condition-clinical")
    kind = with_table(m.codeable(dg1.field(6)), "0052")
    body["category"] = [_status("encounter-diagnosis", "Encounter Diagnosis", "condition-category"), *([kind] if kind else [])]
    if code:
        body["code"] = code
    body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["encounter"] = m.encounter_reference
    for key, value in (("onsetDateTime", m.datetime(dg1, 5)), ("recordedDate", m.datetime(dg1, 19))):
        if value:
            body[key] = value
    asserter = next((p for p in (m.practitioner(r) for r in dg1.repetitions(16)) if p), None)
    if asserter:
        body["asserter"] = asserter
    ref = m.add("Condition", f"{_context(m)}|{what}", body)
    if "verificationStatus" not in body:
        _list_diagnosis(m, dg1, ref, kind)


def _list_diagnosis(m: MessageMapper, dg1: Segment, ref: str, kind: dict[str, Any] | None) -> None:
    """The Condition in `Encounter.diagnosis` (use: DG1-6, rank: DG1-15), when this message
    wrote the Encounter."""
    encounter = m.find("Encounter", m.encounter_key) if m.encounter_key else None
    if encounter is not None:
        entry: dict[str, Any] = {"condition": {"reference": ref}}
        role = DIAGNOSIS_ROLE.get(dg1.get(6) or "")
        if kind:
            role_coding = [{"system": f"{TERMINOLOGY}/diagnosis-role", "code": role[0], "display": role[1]}] if role else []
            entry["use"] = {**kind, "coding": [*role_coding, *kind["coding"]]} if "coding" in kind else kind
        rank = dg1.get(15)
        if rank and rank.isdigit() and int(rank) > 0:
            entry["rank"] = int(rank)
        encounter.setdefault("diagnosis", []).append(entry)


def procedure(m: MessageMapper, pr1: Segment) -> str | None:
    """PR1 → Procedure (completed; PR1-20 `D` → entered-in-error); its reference."""
    code = _code(m, pr1, 3, 2, 4)
    what = _code_key(code)
    if what is None:
        if not pr1.get(1):
            m.problem(pr1, "3", "PR1-3 (procedure code), PR1-4 and PR1-1 are empty: no Procedure can be made")
            return None
        what = f"#{pr1.get(1)}"
    m.use(pr1)
    body: dict[str, Any] = {}
    ident = m.entity_identifier(pr1.field(19))
    if ident:
        body["identifier"] = [ident]
    body["status"] = "entered-in-error" if pr1.get(20) == "D" else "completed"
    category = with_table(m.codeable(pr1.field(6)), "0230")
    if category:
        body["category"] = category
    if code:
        body["code"] = code
    body["subject"] = m.patient_reference
    if m.encounter_reference:
        body["encounter"] = m.encounter_reference
    performed = m.datetime(pr1, 5)
    if performed:
        body["performedDateTime"] = performed
    performers = []
    for n, function in ((12, None), (11, "Surgeon"), (8, "Anesthesiologist")):
        for who in (m.practitioner(r) for r in pr1.repetitions(n)):
            if who:
                performers.append({**({"function": {"text": function}} if function else {}), "actor": who})
    if performers:
        body["performer"] = performers
    reasons = [r for r in (m.codeable(x) for x in pr1.repetitions(15)) if r]
    if reasons:
        body["reasonCode"] = reasons
    return m.add("Procedure", f"{_context(m)}|{what}|{pr1.get(5, 1) or ''}", body)


ALLERGY_CATEGORY = {"DA": "medication", "FA": "food", "EA": "environment", "AA": "environment", "PA": "environment", "LA": "environment"}
"""Allergen type (table 0127) → AllergyIntolerance.category (MA, MC: none)."""
ALLERGY_SEVERITY = {"SV": ("high", "severe"), "MO": ("low", "moderate"), "MI": ("low", "mild"), "U": ("unable-to-assess", None)}
"""Allergy severity (table 0128) → (criticality, reaction severity)."""


def allergy(m: MessageMapper, al1: Segment) -> None:
    """AL1 → AllergyIntolerance of the patient."""
    code = _code(m, al1, 3, None, None)
    what = _code_key(code)
    if what is None:
        m.problem(al1, "3", "AL1-3 (allergen) is empty: no AllergyIntolerance can be made")
        return
    m.use(al1)
    kind = (al1.get(2, 1) or "").upper()
    severity_code = (al1.get(4, 1) or "").upper()
    severity = ALLERGY_SEVERITY.get(severity_code)
    if severity_code and severity is None:
        m.problem(al1, "4", f"`{al1.get(4, 1)}` is not an allergy severity (table 0128: SV, MO, MI, U)")
    body: dict[str, Any] = {"clinicalStatus": _status("active", "Active", "allergyintolerance-clinical")}
    if kind and kind != "MC":
        body["type"] = "allergy"
    if kind in ALLERGY_CATEGORY:
        body["category"] = [ALLERGY_CATEGORY[kind]]
    if severity:
        body["criticality"] = severity[0]
    body["code"] = code
    body["patient"] = m.patient_reference
    onset = m.date(al1, 6)
    if onset:
        body["onsetDateTime"] = onset
    reactions = [{"text": r} for r in (al1.get(5, rep=i) for i in range(1, len(al1.repetitions(5)) + 1)) if r]
    if reactions:
        reaction: dict[str, Any] = {"manifestation": reactions}
        if severity and severity[1]:
            reaction["severity"] = severity[1]
        body["reaction"] = [reaction]
    m.add("AllergyIntolerance", f"{m.patient_key}|{what}", body)


# -- IN1 (+ IN2) → Coverage ------------------------------------------------------------------------------
SUBSCRIBER_RELATIONSHIP = {
    "SEL": "self", "18": "self", "SPO": "spouse", "01": "spouse", "CHD": "child", "NCH": "child",
    "SCH": "child", "FCH": "child", "19": "child", "FTH": "parent", "MTH": "parent", "PAR": "parent",
}  # fmt: skip
"""Insured's relationship to patient (table 0063, or the X12 code) → subscriber-relationship
(anything else: other)."""
RELATIONSHIP_DISPLAY = {"self": "Self", "spouse": "Spouse", "child": "Child", "parent": "Parent", "other": "Other"}


def _payer(m: MessageMapper, in1: Segment) -> dict[str, Any] | None:
    """IN1-4 (company name, XON) with IN1-3 (company id, CX) as one Organization."""
    d = m.msg.delimiters
    name = (in1.repetitions(4) or [""])[0]
    cx = (in1.repetitions(3) or [""])[0].split(d.component)
    if not cx[0]:
        return m.organization(name) if name else None
    cx += [""] * (5 - len(cx))
    # XON: 1 name … 6 assigning authority (CX.4), 7 identifier type (CX.5) … 10 identifier (CX.1)
    xon = [name.split(d.component)[0], "", "", "", "", cx[3], cx[4], "", "", cx[0]]
    return m.organization(d.component.join(xon))


def _subscriber(m: MessageMapper, in1: Segment, relation: str) -> dict[str, Any] | None:
    """The patient (self), else a RelatedPerson from IN1-16/18/19/43 (keyed as an NK1 is)."""
    names = [n for n in (m.human_name(r) for r in in1.repetitions(16)) if n]
    if SUBSCRIBER_RELATIONSHIP.get(relation) == "self" or not names:
        return m.patient_reference if SUBSCRIBER_RELATIONSHIP.get(relation) == "self" else None
    key = f"{m.patient_key}|{names[0].get('text')}|{in1.get(17, 1) or ''}"
    if m.find("RelatedPerson", key) is None:  # an NK1 of the same person says more
        body: dict[str, Any] = {"patient": m.patient_reference}
        relationship = with_table(m.codeable(in1.field(17)), "0063")
        if relationship:
            body["relationship"] = [relationship]
        body["name"] = names
        gender = administrative_sex(m, in1, 43)
        if gender:
            body["gender"] = gender
        birth = m.date(in1, 18)
        if birth:
            body["birthDate"] = birth
        addresses = [a for a in (m.address(r) for r in in1.repetitions(19)) if a]
        if addresses:
            body["address"] = addresses
        m.add("RelatedPerson", key, body)
    return m.reference("RelatedPerson", key)


def _member_id(m: MessageMapper, in1: Segment) -> str | None:
    """IN1-36 policy number, else IN2-61 member number, IN1-49 insured's id, IN2-6/IN2-8
    (Medicare, Medicaid numbers); the IN2 is marked used when it gave the id."""
    found = in1.get(36)
    if found:
        return found
    in2 = next(iter(following(m.msg, in1, "IN2", ("IN1", "PID"))), None)
    for seg, n in ((in2, 61), (in1, 49), (in2, 6), (in2, 8)):
        value = seg.get(n, 1) if seg is not None else None
        if value:
            m.use(seg)
            return value
    return None


def coverage(m: MessageMapper, in1: Segment) -> None:
    """IN1 → Coverage: payor IN1-3/4, subscriber IN1-16/17, subscriberId (`_member_id`),
    relationship IN1-17, period IN1-12/13, class group IN1-8/9 and plan IN1-2, type IN1-15,
    order IN1-22."""
    payer = _payer(m, in1)
    if payer is None:
        m.problem(in1, "3", "IN1-3 (insurance company id) and IN1-4 (company name) are empty: a Coverage needs its payor")
        return
    m.use(in1)
    relation = (in1.get(17, 1) or "").upper()
    member = _member_id(m, in1)
    body: dict[str, Any] = {"status": "active"}
    plan_type = with_table(m.codeable(in1.field(15)), "0086")
    if plan_type:
        body["type"] = plan_type
    subscriber = _subscriber(m, in1, relation)
    if subscriber:
        body["subscriber"] = subscriber
    if member:
        body["subscriberId"] = member
    body["beneficiary"] = m.patient_reference
    sent = with_table(m.codeable(in1.field(17)), "0063")
    if sent:
        code = SUBSCRIBER_RELATIONSHIP.get(relation, "other")
        coding = {"system": f"{TERMINOLOGY}/subscriber-relationship", "code": code, "display": RELATIONSHIP_DISPLAY[code]}
        body["relationship"] = {**sent, "coding": [coding, *sent.get("coding", [])]}
    period = {k: v for k, v in (("start", m.date(in1, 12)), ("end", m.date(in1, 13))) if v}
    if period:
        body["period"] = period
    body["payor"] = [payer]
    classes = _classes(in1)
    if classes:
        body["class"] = classes
    order = in1.get(22)
    if order and order.isdigit() and int(order) > 0:
        body["order"] = int(order)
    payer_key = in1.get(3, 1) or f"name|{in1.get(4, 1)}"
    m.add("Coverage", f"{m.patient_key}|{payer_key}|{member or ''}", body)


def _classes(in1: Segment) -> list[dict[str, Any]]:
    """Coverage.class: group IN1-8 (name IN1-9), plan IN1-2 (name IN1-2.2)."""
    classes = []
    for kind, value, name in (("group", in1.get(8, 1), in1.get(9, 1)), ("plan", in1.get(2, 1), in1.get(2, 2))):
        if value:
            coding = {"system": f"{TERMINOLOGY}/coverage-class", "code": kind, "display": kind.title()}
            entry = {"type": {"coding": [coding]}, "value": value}
            classes.append({**entry, **({"name": name} if name else {})})
    return classes
