"""MDM^T01–T11 → a DocumentReference per TXA, its content from the OBX that follow.

Key = TXA-12 (unique document number, also `masterIdentifier`), so the original, its status
changes, edits and its cancel land on one resource. status: `entered-in-error` for T11
(cancel) or TXA-19 = CA, `superseded` for TXA-19 = OB, else `current`; docStatus from TXA-17
(AU, LA → final; DI, DO, IN, IP, PA → preliminary); type TXA-2 (table 0270); date TXA-6
(origination) else TXA-4; context period TXA-4 (activity), encounter, related order TXA-14;
author TXA-9 (originator) and TXA-5 (primary activity provider); authenticator TXA-10;
securityLabel TXA-18 (table 0272 → v3 Confidentiality); relatesTo TXA-13 (parent document)
for addenda (T05/T06: appends) and replacements (T09/T10: replaces).

Content: the text OBX (ST, TX, FT; repetitions and segments are lines, formatting decoded)
as one `text/plain` attachment with base64 data; each ED OBX as its own attachment; with no
content in the message, the file TXA-16 names (as a url), else the presentation TXA-3.

Not mapped: ORC/OBR/TQ1 (the order the document answers is named by TXA-14), CON, PRT, NTE.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper, with_table
from medlake.silver.mappings.hl7v2_results import control_key, entity, first, instant
from medlake.silver.mappings.hl7v2_values import TEXT_TYPES, attachment, text_lines

COMPLETION = {"AU": "final", "LA": "final", "DI": "preliminary", "DO": "preliminary", "IN": "preliminary", "IP": "preliminary", "PA": "preliminary"}
"""HL7 table 0271 (document completion status, TXA-17) → DocumentReference.docStatus."""

CONFIDENTIALITY = {"V": ("V", "very restricted"), "R": ("R", "restricted"), "U": ("N", "normal")}
"""HL7 table 0272 (TXA-18) → v3 Confidentiality (usual control is `N` normal)."""

PRESENTATION = {"TX": "text/plain", "FT": "text/plain", "TEXT": "text/plain", "HTML": "text/html", "RTF": "application/rtf", "PDF": "application/pdf"}
"""TXA-3 document content presentation (table 0191) → contentType, when no content is sent."""

DOCUMENT_TYPES = {
    "AR": "Autopsy report", "CD": "Cardiodiagnostics", "CN": "Consultation", "DI": "Diagnostic imaging",
    "DS": "Discharge summary", "ED": "Emergency department report", "HP": "History and physical examination",
    "OP": "Operative report", "PC": "Psychiatric consultation", "PH": "Psychiatric history and physical examination",
    "PN": "Procedure note", "PR": "Progress note", "SP": "Surgical pathology", "TS": "Transfer summary",
}  # fmt: skip
"""HL7 table 0270 (document type, TXA-2; user-defined, these are the suggested values)."""

RELATION = {"T05": "appends", "T06": "appends", "T09": "replaces", "T10": "replaces"}


def map_message(m: MessageMapper) -> None:
    txa = m.msg.segment("TXA")
    if txa is None:
        return
    key = entity(txa, 12) or control_key(m)
    body: dict[str, Any] = {}
    master = m.entity_identifier(first(txa, 12)) if first(txa, 12) else None
    if master:
        body["masterIdentifier"] = master
    body.update(statuses(m, txa))
    kind = document_type(m, txa)
    if kind:
        body["type"] = kind
    if m.patient_reference:
        body["subject"] = m.patient_reference
    date = instant(m.datetime(txa, 6)) or instant(m.datetime(txa, 4))
    if date:
        body["date"] = date
    authors = _authors(m, txa)
    if authors:
        body["author"] = authors
    authenticator = m.practitioner(first(txa, 10)) if first(txa, 10) else None
    if authenticator:
        body["authenticator"] = authenticator
    parent = entity(txa, 13)
    relation = RELATION.get((m.msg.trigger or "").upper())
    if parent and relation and parent != key:
        body["relatesTo"] = [{"code": relation, "target": m.reference("DocumentReference", parent)}]
    label = CONFIDENTIALITY.get((txa.get(18, 1) or "").upper())
    if label:
        coding = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": label[0], "display": label[1]}
        body["securityLabel"] = [{"coding": [coding]}]
    body["content"] = [{"attachment": a} for a in contents(m, txa)]
    context = _context(m, txa)
    if context:
        body["context"] = context
    m.use(txa)
    m.add("DocumentReference", key, body)


def document_type(m: MessageMapper, txa: Segment) -> dict[str, Any] | None:
    """TXA-2 with table 0270 as its system when the sender names none (and its display)."""
    kind = with_table(m.codeable(first(txa, 2)), "0270")
    if kind is None:
        return None
    codings = [
        {**c, "display": DOCUMENT_TYPES[c["code"]]}
        if c.get("system", "").endswith("/v2-0270") and c["code"] in DOCUMENT_TYPES and "display" not in c
        else c
        for c in kind["coding"]
    ]
    return {**kind, "coding": codings}


def statuses(m: MessageMapper, txa: Segment) -> dict[str, Any]:
    availability = (txa.get(19, 1) or "").upper()
    if (m.msg.trigger or "").upper() == "T11" or availability == "CA":
        out: dict[str, Any] = {"status": "entered-in-error"}
    elif availability == "OB":
        out = {"status": "superseded"}
    else:
        out = {"status": "current"}
    completion = (txa.get(17, 1) or "").upper()
    if completion in COMPLETION:
        out["docStatus"] = COMPLETION[completion]
    elif completion:
        m.problem(txa, "17", f"`{completion}` is not a document completion status (table 0271: AU, DI, DO, IN, IP, LA, PA)")
    return out


def contents(m: MessageMapper, txa: Segment) -> list[dict[str, Any]]:
    """The attachments: the text OBX joined into one, each ED OBX; else TXA-16 / TXA-3."""
    lines: list[str] = []
    out: list[dict[str, Any]] = []
    for seg in m.msg.all("OBX"):
        if seg.index < txa.index:
            continue
        vtype = (seg.get(2, 1) or "").upper()
        if vtype in TEXT_TYPES:
            lines += text_lines(seg)
            m.use(seg)
        elif vtype == "ED":
            found = attachment(m, seg)
            if found is not None:
                out.append(found)
                m.use(seg)
    created = m.datetime(txa, 6)
    if lines:
        data = base64.b64encode("\n".join(lines).encode("utf-8")).decode("ascii")
        text: dict[str, Any] = {"contentType": "text/plain", "data": data}
        if created:
            text["creation"] = created
        out.insert(0, text)
    if out:
        return out
    name = txa.get(16)
    if name:
        return [{"url": quote(name, safe="/:@!$&'()*+,;=-._~")}]
    presentation = PRESENTATION.get((txa.get(3) or "").upper())
    return [{"contentType": presentation}] if presentation else [{"title": "document content not sent in the message"}]


def _authors(m: MessageMapper, txa: Segment) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in (9, 5):
        for raw in txa.repetitions(n):
            who = m.practitioner(raw)
            if who and all(a["reference"] != who["reference"] for a in out):
                out.append(who)
    return out


def _context(m: MessageMapper, txa: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m.encounter_reference:
        out["encounter"] = [m.encounter_reference]
    activity = m.datetime(txa, 4)
    if activity:
        out["period"] = {"start": activity}
    order = entity(txa, 14)
    if order:
        out["related"] = [m.reference("ServiceRequest", order)]
    return out
