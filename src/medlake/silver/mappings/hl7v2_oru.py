"""ORU^R01 (and OUL^R21–R24) → a DiagnosticReport per OBR and an Observation per OBX.

DiagnosticReport: identifiers (placer, filler), `basedOn` the ServiceRequest of the order (the
key the order mapping gives it: the placer order number), status OBR-25, category OBR-24
(`LAB` when empty), code OBR-4, effective OBR-7 (to OBR-8), issued OBR-22, performers (those
of its observations), results interpreter OBR-32, specimens (SPM), results, and the ED/RP
values of its OBX as `presentedForm`. Observations: see `hl7v2_results.observation`.

Not mapped here: the ServiceRequest itself (the order feed, ORM/OML, makes it, so a result
does not overwrite the order's details), NTE after an OBR (R4 DiagnosticReport has no note),
TQ1, CTD, FT1, CTI, SAC, INV, TCD.
"""

from __future__ import annotations

import base64
from typing import Any

from medlake.formats.hl7v2 import Segment
from medlake.silver.mappings.hl7v2_common import MessageMapper
from medlake.silver.mappings.hl7v2_results import (
    LABORATORY,
    NOT_OBSERVATIONS,
    SECOND_PATIENT,
    ObservationContext,
    Order,
    code_key,
    control_key,
    first,
    instant,
    observation,
    order_groups,
    order_identifiers,
    request_key,
    result_base,
    specimen,
)
from medlake.silver.mappings.hl7v2_values import TEXT_TYPES, attachment, text_lines

REPORT_STATUS = {
    "O": "registered",
    "I": "registered",
    "S": "registered",
    "A": "partial",
    "R": "partial",
    "N": "partial",
    "P": "preliminary",
    "C": "corrected",
    "M": "corrected",
    "F": "final",
    "X": "cancelled",
    "D": "entered-in-error",
    "Y": "unknown",
    "Z": "unknown",
}
"""HL7 table 0123 (result status, OBR-25) → FHIR DiagnosticReport.status."""

SECTIONS = {
    "LAB": "Laboratory", "AU": "Audiology", "BG": "Blood Gases", "BLB": "Blood Bank",
    "CH": "Chemistry", "CP": "Cytopathology", "CT": "CAT Scan", "CTH": "Cardiac Catheterization",
    "CUS": "Cardiac Ultrasound", "EC": "Electrocardiac (e.g., EKG, EEC, Holter)",
    "EN": "Electroneuro (EEG, EMG,EP,PSG)", "HM": "Hematology", "ICU": "Bedside ICU Monitoring",
    "IMM": "Immunology", "MB": "Microbiology", "MCB": "Mycobacteriology", "MYC": "Mycology",
    "NMR": "Nuclear Magnetic Resonance", "NMS": "Nuclear Medicine Scan", "OUS": "OB Ultrasound",
    "PAT": "Pathology (gross & histopath, not surgical)", "PHY": "Physician (Hx. Dx, admission note, etc.)",
    "RAD": "Radiology", "RX": "Radiograph", "SP": "Surgical Pathology", "SR": "Serology",
    "TX": "Toxicology", "US": "Ultrasound", "VR": "Virology", "VUS": "Vascular Ultrasound",
    "XRC": "Cineradiograph",
}  # fmt: skip
"""HL7 table 0074 (diagnostic service section, OBR-24) with their displays."""

SECTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0074"


def map_message(m: MessageMapper) -> None:
    groups = order_groups(m.msg, orc_after_obr=(m.msg.message_type or "").upper() == "OUL")
    loose = ObservationContext(control_key(m), category=LABORATORY)
    for r in groups.loose:
        if r.specimen is not None:
            specimen(m, r.specimen, loose.base)
        if (r.obx.get(2, 1) or "").upper() not in NOT_OBSERVATIONS:
            observation(m, r, loose)
    for order in groups.orders:
        map_order(m, order)
    if groups.second_patient is not None:
        m.problem(groups.second_patient, "", SECOND_PATIENT)


def map_order(m: MessageMapper, order: Order) -> None:
    """The Observations of one order group, then its DiagnosticReport."""
    obr = order.obr
    base = result_base(m, order)
    specimens = [specimen(m, s, base) for s in order.specimens]
    ctx = ObservationContext(
        base,
        effective=m.datetime(obr, 7) if obr is not None else None,
        issued=instant(m.datetime(obr, 22)) if obr is not None else None,
        category=LABORATORY,
        specimen=specimens[0] if len(specimens) == 1 else None,
    )
    results: list[dict[str, Any]] = []
    forms: list[dict[str, Any]] = []
    narrative: list[str] = []
    for r in order.results:
        vtype = (r.obx.get(2, 1) or "").upper()
        if vtype in NOT_OBSERVATIONS:
            form = attachment(m, r.obx) if obr is not None else None
            if form is not None:
                title = m.codeable(first(r.obx, 3))
                if title and title.get("text"):
                    form["title"] = title["text"]
                forms.append(form)
                m.use(r.obx)
        elif vtype in TEXT_TYPES and not first(r.obx, 3) and obr is not None:
            narrative += text_lines(r.obx)
            m.use(r.obx)
        else:
            ref = observation(m, r, ctx)
            if ref is not None:
                results.append({"reference": ref})
    if narrative:
        data = base64.b64encode("\n".join(narrative).encode("utf-8")).decode("ascii")
        forms.insert(0, {"contentType": "text/plain", "data": data})
    if obr is not None:
        report(m, order, obr, base, ctx, results, forms, specimens)


def report(
    m: MessageMapper,
    order: Order,
    obr: Segment,
    base: str,
    ctx: ObservationContext,
    results: list[dict[str, Any]],
    forms: list[dict[str, Any]],
    specimens: list[dict[str, Any]],
) -> None:
    code_raw = first(obr, 4)
    code = m.codeable(code_raw) if code_raw else None
    if code is None:
        m.problem(obr, "4", "OBR-4 (universal service identifier) is empty: no DiagnosticReport can be made")
        return
    body: dict[str, Any] = {}
    ids = order_identifiers(m, order)
    if ids:
        body["identifier"] = ids
    body["basedOn"] = [m.reference("ServiceRequest", request_key(m, order))]
    body["status"] = report_status(m, obr)
    section = (obr.get(24, 1) or "LAB").upper()
    coding = {"system": SECTION_SYSTEM, "code": section, **({"display": SECTIONS[section]} if section in SECTIONS else {})}
    body["category"] = [{"coding": [coding]}]
    body["code"] = code
    for k, v in (("subject", m.patient_reference), ("encounter", m.encounter_reference)):
        if v:
            body[k] = v
    end = m.datetime(obr, 8)
    if ctx.effective and end:
        body["effectivePeriod"] = {"start": ctx.effective, "end": end}
    elif ctx.effective:
        body["effectiveDateTime"] = ctx.effective
    if ctx.issued:
        body["issued"] = ctx.issued
    if ctx.performers:
        body["performer"] = list(ctx.performers.values())
    interpreter = cnn_practitioner(m, obr, 32)
    if interpreter:
        body["resultsInterpreter"] = [interpreter]
    if specimens:
        body["specimen"] = specimens
    if results:
        body["result"] = results
    if forms:
        body["presentedForm"] = forms
    m.use(order.orc, obr)
    m.add("DiagnosticReport", f"{base}|{code_key(m, code_raw)}", body)


def report_status(m: MessageMapper, obr: Segment) -> str:
    code = (obr.get(25, 1) or "").upper()
    if not code:
        return "unknown"
    status = REPORT_STATUS.get(code)
    if status is None:
        m.problem(obr, "25", f"`{code}` is not a result status (table 0123: A, C, D, F, I, M, N, O, P, R, S, X, Y, Z); status `unknown` is used")
        return "unknown"
    return status


def cnn_practitioner(m: MessageMapper, seg: Segment, n: int) -> dict[str, Any] | None:
    """The CNN in the first component of an NDL field (OBR-32 … OBR-35) as a Practitioner: its
    sub-components are an XCN's components (1–8), then the assigning authority (9–11)."""
    raw = first(seg, n)
    d = m.msg.delimiters
    cnn = raw.split(d.component)[0] if raw else ""
    if not cnn.replace(d.subcomponent, ""):
        return None
    subs = cnn.split(d.subcomponent)
    xcn = d.component.join([*subs[:8], d.subcomponent.join(subs[8:11])] if len(subs) > 8 else subs)
    return m.practitioner(xcn)
