"""Claims: charges per encounter line and the payer's adjudication (CARC codes only)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from medlake.synth.codes import CHARGES, DENIALS, DRGS, EM_CODES, PANELS, REVENUE_CODES, VACCINES
from medlake.synth.model import (
    Adjustment,
    Claim,
    ClaimLine,
    Coverage,
    Encounter,
    Immunization,
    Observation,
    Procedure,
)

DENIAL_RATE = 0.07
_FACTOR = {"medicare": 0.32, "medicaid": 0.25, "commercial": 0.55}
_POS = {"AMB": "11", "VR": "10", "EMER": "23", "IMP": "21", "OBSENC": "22"}


def _em_code(enc: Encounter, age: int, cov: Coverage, rng: random.Random) -> str:
    if enc.type_code == "wellness":
        if age < 18:
            return EM_CODES["wellness_child"][min(4, 0 if age < 1 else 1 if age < 5 else 2 if age < 12 else 3)]
        if cov.payer_type == "medicare":
            return "G0439"
        return "99397" if age >= 65 else "99396"
    if enc.enc_class == "VR":
        return rng.choice(EM_CODES["telehealth"])
    if enc.enc_class == "EMER":
        return rng.choice(EM_CODES["emergency"])
    if enc.enc_class == "IMP":
        return rng.choice(EM_CODES["inpatient"])
    return rng.choices(EM_CODES["ambulatory"], weights=(2, 6, 3))[0]


def _codes(labs: list[Observation], procs: list[Procedure], imms: list[Immunization], cov: Coverage) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    panels = {o.panel_loinc for o in labs}
    for p in PANELS.values():
        if p.loinc in panels:
            out.append(("CPT", p.cpt))
    if labs:
        out.append(("CPT", "36415"))
    for pr in procs:
        if pr.system != "ICD10PCS":
            out.append((pr.system, pr.code))
    for im in imms:
        vac = next((v for v in VACCINES.values() if v.cvx == im.cvx), None)
        if vac and vac.cpt:
            out.append(("CPT", vac.cpt))
    if imms:
        flu = any(im.cvx == VACCINES["flu"].cvx for im in imms)
        out.append(("HCPCS", "G0008") if flu and cov.payer_type == "medicare" else ("CPT", "90471"))
    return out


def claims_for(enc: Encounter, age: int, cov: Coverage, labs: list[Observation], procs: list[Procedure],
               imms: list[Immunization], problem: str, rng: random.Random, sources: tuple[str, ...]) -> list[Claim]:
    """The professional claim of the encounter, plus the facility claim of ED visits and stays."""
    day = enc.start.date()
    em = _em_code(enc, age, cov, rng)
    prof_lines = [("CPT" if em[0].isdigit() else "HCPCS", em), *_codes(labs, procs, imms, cov)]
    if enc.enc_class in ("EMER", "IMP"):  # facility bills the ancillaries
        prof_lines = prof_lines[:1]
    dx = enc.reason_codes
    out = [_adjudicate(enc, cov, "professional", [
        (s, c, "", 1, CHARGES.get(c, 150.0), (("95",) if enc.enc_class == "VR" and i == 0 else ())) for i, (s, c) in enumerate(prof_lines)
    ], dx, rng, sources, "P", day)]
    if enc.enc_class in ("EMER", "IMP"):
        out.append(_adjudicate(enc, cov, "institutional", _facility_lines(enc, labs, procs, problem, em, rng),
                               dx, rng, sources, "I", day))
    return out


def _facility_lines(enc: Encounter, labs: list[Observation], procs: list[Procedure], problem: str, em: str,
                    rng: random.Random) -> list[tuple[str, str, str, int, float, tuple[str, ...]]]:
    lines: list[tuple[str, str, str, int, float, tuple[str, ...]]] = []
    if enc.enc_class == "IMP":
        nights = max(1, (enc.end.date() - enc.start.date()).days)
        base = DRGS.get(problem, DRGS["other"])[1] * rng.uniform(0.8, 1.3)
        lines.append(("", "", REVENUE_CODES["room"], nights, round(base * 0.55 / nights, 2) * nights, ()))
        lines.append(("", "", REVENUE_CODES["pharmacy"], 1, round(base * 0.2, 2), ()))
        if any(p.code == "5A09357" for p in procs):
            lines.append(("", "", REVENUE_CODES["respiratory"], 1, round(base * 0.08, 2), ()))
    else:
        lines.append(("CPT", em, REVENUE_CODES["ed"], 1, CHARGES.get(em, 600.0) * 2.5, ()))
    if labs:
        for p in PANELS.values():
            if any(o.panel_loinc == p.loinc for o in labs):
                lines.append(("CPT", p.cpt, REVENUE_CODES["lab"], 1, CHARGES[p.cpt] * 1.8, ()))
    for pr in procs:
        if pr.code == "71046":
            lines.append(("CPT", "71046", REVENUE_CODES["radiology"], 1, 420.0, ()))
        elif pr.code == "93000":
            lines.append(("CPT", "93000", REVENUE_CODES["ekg"], 1, 190.0, ()))
        elif pr.system == "HCPCS" and pr.code.startswith("J"):
            lines.append(("HCPCS", pr.code, REVENUE_CODES["pharmacy"], 1, CHARGES.get(pr.code, 40.0) * 2, ()))
    return lines


def _adjudicate(enc: Encounter, cov: Coverage, kind: str,
                raw: list[tuple[str, str, str, int, float, tuple[str, ...]]], dx: tuple[str, ...],
                rng: random.Random, sources: tuple[str, ...], suffix: str, day: date) -> Claim:
    factor = _FACTOR.get(cov.payer_type, 0.5)
    denied = rng.random() < DENIAL_RATE
    denial = rng.choice(DENIALS)
    lines: list[ClaimLine] = []
    total_paid = total_pr = 0.0
    deductible_left = 250.0 if cov.payer_type == "commercial" and day.month <= 3 and rng.random() < 0.4 else 0.0
    for n, (system, code, rev, units, charge, mods) in enumerate(raw, start=1):
        charge = round(charge, 2)
        if denied:
            adj = (Adjustment(group=denial[0], reason=denial[1], amount=charge),)
            lines.append(ClaimLine(line_no=n, system=system, code=code, modifiers=mods, revenue_code=rev, units=units,
                                   charge=charge, allowed=0.0, paid=0.0, adjustments=adj, service_date=day))
            continue
        allowed = round(charge * factor, 2)
        adjs = [Adjustment(group="CO", reason="45", amount=round(charge - allowed, 2))]
        pr = 0.0
        if deductible_left > 0:
            pr = min(allowed, deductible_left)
            deductible_left -= pr
            adjs.append(Adjustment(group="PR", reason="1", amount=round(pr, 2)))
        elif cov.payer_type == "commercial" and n == 1 and enc.enc_class in ("AMB", "VR"):
            pr = min(allowed, 25.0)
            adjs.append(Adjustment(group="PR", reason="3", amount=pr))
        elif cov.payer_type in ("commercial", "medicare"):
            pr = round(allowed * 0.2, 2)
            adjs.append(Adjustment(group="PR", reason="2", amount=pr))
        paid = round(allowed - pr, 2)
        if code == "36415" and rng.random() < 0.3:  # bundled into the visit
            adjs = [Adjustment(group="CO", reason="97", amount=charge)]
            allowed = paid = pr = 0.0
        total_paid += paid
        total_pr += pr
        lines.append(ClaimLine(line_no=n, system=system, code=code, modifiers=mods, revenue_code=rev, units=units,
                               charge=charge, allowed=allowed, paid=paid, adjustments=tuple(adjs), service_date=day))
    submitted = enc.end.date() + timedelta(days=rng.randint(1, 10))
    paid_date = submitted + timedelta(days=rng.randint(10, 40))
    iso = paid_date.isocalendar()
    return Claim(
        claim_id=f"{enc.encounter_id}-{suffix}", encounter_id=enc.encounter_id, claim_type=kind,
        payer_id=cov.payer_id, payer_name=cov.payer_name, member_id=cov.member_id, billing=enc.facility,
        rendering=enc.attending, place_of_service=_POS.get(enc.enc_class, "11") if kind == "professional" else "",
        type_of_bill=("0111" if enc.enc_class == "IMP" else "0131") if kind == "institutional" else "",
        diagnoses=dx, lines=tuple(lines), total_charge=round(sum(ln.charge for ln in lines), 2),
        paid=round(total_paid, 2), patient_responsibility=round(total_pr, 2),
        status="denied" if denied else "paid",
        submitted=submitted, paid_date=paid_date,
        payer_claim_control=f"{rng.randint(10**12, 10**13 - 1)}",
        check_number=f"{cov.payer_id}{iso.year}{iso.week:02d}", sources=sources,
    )
