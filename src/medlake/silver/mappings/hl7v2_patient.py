"""PID (+ PD1, NK1) → Patient (+ RelatedPerson).

Patient, keyed by PID-3 (`patient_key`: the MR identifier, else the first):

- identifier: PID-2, every PID-3 repetition, PID-4 (assigning authority → system), PID-19 SSN
  (`us-ssn`), PID-20 driver's licence (type DL)
- name: PID-5 (use from XPN-7) and PID-9 aliases; PID-6 → the mothersMaidenName extension
- birthDate: PID-7 (a time in PID-7 also goes to the birthTime extension); gender: PID-8
- PID-10 race and PID-22 ethnicity → the US Core extensions: CDC race and ethnicity codes
  (CDCREC, or HL70005 / HL70189) as ombCategory or detailed, the text always
- address: PID-11; telecom: PID-13 (home) and PID-14 (work)
- communication: PID-15 (preferred); maritalStatus: PID-16 → v3-MaritalStatus, with the code sent
- multipleBirth: PID-25 birth order, else PID-24; deceased: PID-29, else PID-30
- generalPractitioner: PD1-3 (Organization) and PD1-4 (Practitioner)

RelatedPerson per NK1 of the patient, keyed by patient + NK1-2 name + NK1-3 relationship (NK1-1
when there is no name): relationship NK1-3 and NK1-7, name, address, telecom (NK1-5 home,
NK1-6 work), gender, birth date, period NK1-8/9, identifier NK1-33.

Not mapped: PID-17 religion, PID-18 account number (it names an account, not the person),
PID-23 birth place, PID-26 … PID-28 citizenship, veteran, nationality, PID-31 … PID-39
(identity reliability, last update, species …), PD1-1/2 and PD1-5 … PD1-21.

A message states the patient as a whole: what it leaves out (empty, or `""` to delete) is
absent from the new version.
"""

from __future__ import annotations

import re
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import (
    GENDER,
    Hl7ValueError,
    MessageMapper,
    following,
    hl7_datetime,
    with_table,
)

CDCREC = "urn:oid:2.16.840.1.113883.6.238"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
OMB_RACE = {
    "1002-5": "American Indian or Alaska Native",
    "2028-9": "Asian",
    "2054-5": "Black or African American",
    "2076-8": "Native Hawaiian or Other Pacific Islander",
    "2106-3": "White",
}
OMB_ETHNICITY = {"2135-2": "Hispanic or Latino", "2186-5": "Not Hispanic or Latino"}
ETHNIC_GROUP = {"H": "2135-2", "N": "2186-5"}
"""HL7 table 0189 (ethnic group) → the CDC code."""
_CDC_CODE = re.compile(r"^\d{4}-\d$")

MARITAL = {
    "A": "L", "B": "U", "C": "C", "D": "D", "E": "L", "G": "T", "I": "I", "M": "M",
    "N": "A", "P": "T", "R": "T", "S": "S", "W": "W", "O": "OTH", "U": "UNK", "T": "UNK",
}  # fmt: skip
"""HL7 table 0002 (marital status) → v3-MaritalStatus (OTH, UNK: v3-NullFlavor)."""
MARITAL_DISPLAY = {
    "A": "Annulled", "C": "Common Law", "D": "Divorced", "I": "Interlocutory",
    "L": "Legally Separated", "M": "Married", "S": "Never Married", "T": "Domestic partner",
    "U": "unmarried", "W": "Widowed", "OTH": "other", "UNK": "unknown",
}  # fmt: skip
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
V3_NULL = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
_BCP47 = re.compile(r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$")


def map_patient(m: MessageMapper, pid: Segment) -> None:
    """The Patient of `pid` (under `m.patient_key`) and a RelatedPerson per NK1 of its group."""
    assert m.patient_key is not None
    m.use(pid)
    pd1 = next(iter(following(m.msg, pid, "PD1", ("PID", "PV1", "MRG"))), None)
    m.use(pd1)
    m.add("Patient", m.patient_key, patient_body(m, pid, pd1))
    for nk1 in following(m.msg, pid, "NK1", ("PID",)):
        related_person(m, nk1)


def patient_body(m: MessageMapper, pid: Segment, pd1: Segment | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    extensions = [e for e in (_maiden_name(m, pid), _race(m, pid), _ethnicity(m, pid)) if e]
    if extensions:
        body["extension"] = extensions
    ids = _identifiers(m, pid)
    if ids:
        body["identifier"] = ids
    names = [n for n in (m.human_name(r) for f in (5, 9) for r in pid.repetitions(f)) if n]
    if names:
        body["name"] = names
    telecom = [t for t in (m.telecom(r, "home") for r in pid.repetitions(13)) if t]
    telecom += [t for t in (m.telecom(r, "work") for r in pid.repetitions(14)) if t]
    if telecom:
        body["telecom"] = telecom
    gender = administrative_sex(m, pid, 8)
    if gender:
        body["gender"] = gender
    _birth(m, pid, body)
    _deceased(m, pid, body)
    addresses = [a for a in (m.address(r) for r in pid.repetitions(11)) if a]
    if addresses:
        body["address"] = addresses
    marital = _marital_status(m, pid)
    if marital:
        body["maritalStatus"] = marital
    _multiple_birth(m, pid, body)
    language = _language(m, pid)
    if language:
        body["communication"] = [{"language": language, "preferred": True}]
    if pd1 is not None:
        gps = [o for o in (m.organization(r) for r in pd1.repetitions(3)) if o]
        gps += [p for p in (m.practitioner(r) for r in pd1.repetitions(4)) if p]
        if gps:
            body["generalPractitioner"] = gps
    return body


def administrative_sex(m: MessageMapper, seg: Segment, n: int) -> str | None:
    """Table 0001 → FHIR gender; another value is a problem (and no gender)."""
    sex = seg.get(n, 1)
    if not sex:
        return None
    gender = GENDER.get(sex.upper())
    if gender is None:
        m.problem(seg, str(n), f"`{sex}` is not an administrative sex (table 0001: A, F, M, N, O, U)")
    return gender


def _identifiers(m: MessageMapper, pid: Segment) -> list[dict[str, Any]]:
    out = [i for f in (2, 3, 4) for i in (m.identifier(r) for r in pid.repetitions(f)) if i]
    ssn = pid.get(19)
    if ssn:
        out.append({"type": _id_type("SS"), "system": "http://hl7.org/fhir/sid/us-ssn", "value": ssn})
    licence = pid.get(20, 1)
    if licence:
        state = pid.get(20, 2)
        system = f"{m.ctx.system}/id/drivers-license" + (f"/{state}" if state else "")
        out.append({"type": _id_type("DL"), "system": system, "value": licence})
    seen: set[tuple[str, str]] = set()
    unique = []
    for i in out:
        if (i["system"], i["value"]) not in seen:
            seen.add((i["system"], i["value"]))
            unique.append(i)
    return unique


def _id_type(code: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": code}]}


def _maiden_name(m: MessageMapper, pid: Segment) -> dict[str, Any] | None:
    family = pid.get(6, 1, 1)
    if not family:
        return None
    url = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"
    return {"url": url, "valueString": family}


def _birth(m: MessageMapper, pid: Segment, body: dict[str, Any]) -> None:
    birth = m.date(pid, 7)
    if not birth:
        return
    body["birthDate"] = birth
    text = pid.get(7, 1) or ""
    if len(text) > 8 and text[8:10].isdigit():  # a time of birth as well
        try:
            when = hl7_datetime(text, m.ctx.timezone)
        except Hl7ValueError as err:
            m.problem(pid, "7", str(err))
            return
        url = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
        body["_birthDate"] = {"extension": [{"url": url, "valueDateTime": when}]}


def _deceased(m: MessageMapper, pid: Segment, body: dict[str, Any]) -> None:
    died = m.datetime(pid, 29)
    if died:
        body["deceasedDateTime"] = died
        return
    flag = pid.get(30)
    if flag in ("Y", "N"):
        body["deceasedBoolean"] = flag == "Y"
    elif flag:
        m.problem(pid, "30", f"`{flag}` is not a yes/no indicator (table 0136: Y, N)")


def _multiple_birth(m: MessageMapper, pid: Segment, body: dict[str, Any]) -> None:
    order = pid.get(25)
    if order:
        if order.isdigit() and int(order) > 0:
            body["multipleBirthInteger"] = int(order)
            return
        m.problem(pid, "25", f"`{order}` is not a birth order (a whole number from 1)")
    flag = pid.get(24)
    if flag in ("Y", "N"):
        body["multipleBirthBoolean"] = flag == "Y"
    elif flag:
        m.problem(pid, "24", f"`{flag}` is not a yes/no indicator (table 0136: Y, N)")


def _marital_status(m: MessageMapper, pid: Segment) -> dict[str, Any] | None:
    sent = with_table(m.codeable(pid.field(16)), "0002")
    if not sent:
        return None
    code = MARITAL.get((pid.get(16, 1) or "").upper())
    if code is None:
        return sent
    system = V3_NULL if code in ("OTH", "UNK") else V3_MARITAL
    coding = {"system": system, "code": code, "display": MARITAL_DISPLAY[code]}
    return {**sent, "coding": [coding, *sent.get("coding", [])]}


def _language(m: MessageMapper, pid: Segment) -> dict[str, Any] | None:
    sent = with_table(m.codeable(pid.field(15)), "0296")
    if not sent:
        return None
    code = pid.get(15, 1) or ""
    if _BCP47.match(code):  # an ISO 639-1 code (en, en-US) is already a BCP-47 tag
        coding = {"system": "urn:ietf:bcp:47", "code": code[:2].lower() + code[2:].upper()}
        return {**sent, "coding": [coding, *sent.get("coding", [])]}
    return sent


def _race(m: MessageMapper, pid: Segment) -> dict[str, Any] | None:
    return _omb(m, pid, 10, "us-core-race", OMB_RACE, ("CDCREC", "HL70005"), {})


def _ethnicity(m: MessageMapper, pid: Segment) -> dict[str, Any] | None:
    return _omb(m, pid, 22, "us-core-ethnicity", OMB_ETHNICITY, ("CDCREC", "HL70189"), ETHNIC_GROUP)


def _omb(
    m: MessageMapper,
    pid: Segment,
    n: int,
    name: str,
    omb: dict[str, str],
    systems: tuple[str, ...],
    table: dict[str, str],
) -> dict[str, Any] | None:
    """A US Core race/ethnicity extension from the CE repetitions of PID-`n`: CDC codes (of
    the coding systems in `systems`, or a `table` code) as ombCategory/detailed, and the text."""
    parts: list[dict[str, Any]] = []
    texts: list[str] = []
    for rep in range(1, len(pid.repetitions(n)) + 1):
        c = pid.components(n, rep)
        cdc = None
        for code_i, text_i, sys_i in ((0, 1, 2), (3, 4, 5)):
            code, text, system = (c[i] if i < len(c) else None for i in (code_i, text_i, sys_i))
            if code and (system or "").upper() in systems:
                code = table.get(code.upper(), code)
                if _CDC_CODE.match(code):
                    cdc = (code, text)
                    break
        text = next((t for t in (c[i] if i < len(c) else None for i in (8, 1, 4)) if t), None)
        if cdc:
            code, display = cdc
            kind = "ombCategory" if code in omb else "detailed"
            coding = {"system": CDCREC, "code": code, "display": omb.get(code) or display or code}
            if not (kind == "ombCategory" and name == "us-core-ethnicity" and any(p["url"] == kind for p in parts)):
                parts.append({"url": kind, "valueCoding": coding})  # (ethnicity: one category)
            text = text or coding["display"]
        text = text or (c[0] if c else None)
        if text and text not in texts:
            texts.append(text)
    if not texts:
        return None
    return {"url": f"{US_CORE}/{name}", "extension": [*parts, {"url": "text", "valueString": ", ".join(texts)}]}


def related_person(m: MessageMapper, nk1: Segment) -> None:
    """An NK1 → RelatedPerson of the message's patient."""
    assert m.patient_key is not None
    names = [n for n in (m.human_name(r) for r in nk1.repetitions(2) or nk1.repetitions(30)) if n]
    organization = nk1.get(13, 1)
    if not names and organization:
        names = [{"text": organization}]
    relationship = with_table(m.codeable(nk1.field(3)), "0063")
    if not names and not relationship:
        return
    m.use(nk1)
    who = names[0].get("text") if names else None
    key = f"{m.patient_key}|{who}|{nk1.get(3, 1) or ''}" if who else f"{m.patient_key}|#{nk1.get(1) or nk1.index}"
    body: dict[str, Any] = {}
    ids = [i for i in (m.identifier(r) for r in nk1.repetitions(33)) if i]
    if ids:
        body["identifier"] = ids
    body["patient"] = m.patient_reference
    relationships = [r for r in (relationship, with_table(m.codeable(nk1.field(7)), "0131")) if r]
    if relationships:
        body["relationship"] = relationships
    if names:
        body["name"] = names
    telecom = [t for t in (m.telecom(r, "home") for r in nk1.repetitions(5)) if t]
    telecom += [t for t in (m.telecom(r, "work") for r in nk1.repetitions(6)) if t]
    if telecom:
        body["telecom"] = telecom
    gender = administrative_sex(m, nk1, 15)
    if gender:
        body["gender"] = gender
    birth = m.date(nk1, 16)
    if birth:
        body["birthDate"] = birth
    addresses = [a for a in (m.address(r) for r in nk1.repetitions(4)) if a]
    if addresses:
        body["address"] = addresses
    period = {k: v for k, v in (("start", m.date(nk1, 8)), ("end", m.date(nk1, 9))) if v}
    if period:
        body["period"] = period
    m.add("RelatedPerson", key, body)
