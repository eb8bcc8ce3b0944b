"""Hand-made `PersonHistory` objects for the HL7 v2 / X12 emitter tests.

`history(i)` builds person `i` from a few fixed shapes (written by hand, not by the population
generator, so these tests do not move when the generator does):

- every person: ADT, lab and claims registrations; an office visit with a basic metabolic
  panel (glucose, sodium, a text result) and a professional claim paid with CO-45 and PR-2;
- even `i`: an inpatient stay (A01/A03, 837I paid, 837P denied CO-50 at claim level);
- odd `i`: an ED visit, a dependent's coverage (relationship 19), a move (A08);
- `i % 3 == 0`: the glucose result is later corrected.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from medlake.synth.emit import Emitter
from medlake.synth.emit_hl7 import AdtEmitter, LabEmitter
from medlake.synth.emit_x12 import ClaimsEmitter
from medlake.synth.model import (
    Adjustment,
    Claim,
    ClaimLine,
    Coverage,
    Encounter,
    Facility,
    Observation,
    Person,
    PersonHistory,
    Practitioner,
    Registration,
)
from medlake.synth.truth import TruthWriter

HOSPITAL = Facility(
    facility_id="NMH", name="Lakeside Memorial Hospital", npi="1234567893", tz="America/Chicago",
    address_line="251 E Huron St", city="Chicago", state="IL", zip="60611", tax_id="36-1234567",
)  # fmt: skip
DOCTOR = Practitioner(npi="1245319599", given="Ana", family="Ruiz", specialty="207Q00000X")
SOURCES = ("adt", "lab", "claims")


def _person(i: int) -> Person:
    return Person(
        person_id=f"P{i:07d}", index=i, given=["Ann", "Bob", "Chloé", "Dan"][i % 4], family=f"Smith-{i}",
        sex="F" if i % 2 == 0 else "M", birth_date=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
        ssn=f"123-45-{i:04d}", address_line=f"{i} Main St", city="Chicago", state="IL", zip="60601",
        previous_address_line=f"{i} Old Rd" if i % 2 else "", previous_city="Evanston" if i % 2 else "",
        previous_zip="60201" if i % 2 else "", moved_on=date(2023, 3, 1) if i % 2 else None,
        phone="312-555-0142", email=f"p{i}@example.org", race="2106-3", race_display="White",
        ethnicity="2186-5", ethnicity_display="Not Hispanic or Latino", language="en", marital="M",
    )  # fmt: skip


def _reg(p: Person, source: str, mrn: str) -> Registration:
    return Registration(
        source=source, mrn=mrn, given=p.given, family=p.family, sex=p.sex, birth_date=p.birth_date,
        address_line=p.address_line, city=p.city, state=p.state, zip=p.zip, phone=p.phone,
        email=p.email, ssn=p.ssn if source == "adt" else "",
        variants=("nickname",) if source == "lab" and p.index % 5 == 0 else (),
    )  # fmt: skip


def _enc(p: Person, n: int, cls: str, type_code: str, start: datetime, hours: float) -> Encounter:
    return Encounter(
        encounter_id=f"E{p.person_id}-{n}", enc_class=cls, type_code=type_code, start=start,
        end=start + timedelta(hours=hours), tz="America/Chicago", facility=HOSPITAL,
        location="4W^412^A" if cls == "IMP" else "CLINIC 2", attending=DOCTOR,
        reason_codes=("E119",), discharge_disposition="01" if cls in ("IMP", "EMER") else "",
        admit_source="7" if cls == "IMP" else "", sources=SOURCES,
    )  # fmt: skip


def _obs(enc: Encounter, k: int, local: str, loinc: str, value: float | str, unit: str, corrected: float | None = None) -> Observation:
    return Observation(
        observation_id=f"{enc.encounter_id}-O{k}", encounter_id=enc.encounter_id, category="laboratory",
        loinc=loinc, display=f"{local} test", local_code=local, local_display=local.title(),
        order_id=f"ORD{enc.encounter_id}", panel_loinc="51990-0", panel_display="Basic metabolic panel",
        value=value, unit=unit, ref_low=70.0 if unit else None, ref_high=99.0 if unit else None,
        abnormal_flag="H" if isinstance(value, float) and value > 99 else "N", effective=enc.start + timedelta(minutes=20),
        issued=enc.start + timedelta(hours=3), corrected_value=corrected,
        corrected_flag="N" if corrected is not None else "", corrected_at=enc.start + timedelta(days=2) if corrected is not None else None,
        sources=("lab",),
    )  # fmt: skip


def _line(n: int, code: str, charge: float, paid: float, adjs: tuple[Adjustment, ...], day: date, rev: str = "") -> ClaimLine:
    return ClaimLine(
        line_no=n, system="CPT", code=code, modifiers=("25",) if code == "99214" else (), revenue_code=rev,
        charge=charge, allowed=paid + sum(a.amount for a in adjs if a.group == "PR"), paid=paid,
        adjustments=adjs, service_date=day,
    )  # fmt: skip


def _claim(p: Person, enc: Encounter, n: int, kind: str, lines: tuple[ClaimLine, ...], cov: Coverage, *, status: str = "paid", claim_adj: tuple[Adjustment, ...] = ()) -> Claim:
    return Claim(
        claim_id=f"C{p.index:06d}{n}", encounter_id=enc.encounter_id, claim_type=kind,
        payer_id=cov.payer_id, payer_name=cov.payer_name, member_id=cov.member_id, billing=HOSPITAL,
        rendering=DOCTOR, place_of_service="11" if enc.enc_class == "AMB" else "23",
        type_of_bill="0111" if kind == "institutional" else "", diagnoses=("E119", "I10"), lines=lines,
        total_charge=sum(ln.charge for ln in lines), paid=sum(ln.paid for ln in lines), status=status,
        claim_adjustments=claim_adj, submitted=enc.end.date() + timedelta(days=2),
        paid_date=enc.end.date() + timedelta(days=20), sources=("claims",),
    )  # fmt: skip


def history(i: int) -> PersonHistory:
    p = _person(i)
    cov = Coverage(
        payer_id="BCBS01" if i % 2 else "MCR01", payer_name="Blue Plan" if i % 2 else "Medicare",
        payer_type="commercial" if i % 2 else "medicare", member_id=f"M{i:08d}", group_number="G77" if i % 2 else "",
        plan="PPO", relationship="19" if i % 2 else "18", start=date(2020, 1, 1),
    )  # fmt: skip
    visit = _enc(p, 1, "AMB", "wellness", datetime(2022, 5, 1 + i % 28, 9, 30), 0.5)
    obs = [
        _obs(visit, 1, "GLU", "2345-7", 105.0 + i, "mg/dL", corrected=95.0 if i % 3 == 0 else None),
        _obs(visit, 2, "NA", "2951-2", 140.0, "mmol/L"),
        _obs(visit, 3, "COMMENT", "8251-1", "Hemolyzed sample | redrawn ^ ok", ""),
    ]
    d = visit.start.date()
    office = _claim(p, visit, 1, "professional", (
        _line(1, "99214", 200.0, 120.0, (Adjustment(group="CO", reason="45", amount=60.0), Adjustment(group="PR", reason="2", amount=20.0)), d),
        _line(2, "36415", 15.0, 10.0, (Adjustment(group="CO", reason="45", amount=5.0),), d),
    ), cov)  # fmt: skip
    encounters, claims = [visit], [office]
    if i % 2 == 0:
        stay = _enc(p, 2, "IMP", "inpatient", datetime(2023, 1, 10, 14, 0), 72)
        sd = stay.start.date()
        claims.append(_claim(p, stay, 2, "institutional", (
            _line(1, "99223", 5000.0, 3000.0, (Adjustment(group="CO", reason="45", amount=1500.0), Adjustment(group="PR", reason="1", amount=500.0)), sd, rev="0120"),
            _line(2, "85025", 100.0, 60.0, (Adjustment(group="CO", reason="45", amount=40.0),), sd, rev="0300"),
        ), cov))  # fmt: skip
        claims.append(_claim(p, stay, 3, "professional", (
            _line(1, "99233", 300.0, 0.0, (), sd),
        ), cov, status="denied", claim_adj=(Adjustment(group="CO", reason="50", amount=300.0),)))  # fmt: skip
        encounters.append(stay)
    else:
        ed = _enc(p, 2, "EMER", "emergency", datetime(2023, 6, 2, 22, 15), 5)
        claims.append(_claim(p, ed, 2, "professional", (
            _line(1, "99284", 700.0, 0.0, (Adjustment(group="PR", reason="1", amount=700.0),), ed.start.date()),
        ), cov, status="partial"))  # fmt: skip
        encounters.append(ed)
    return PersonHistory(
        person=p,
        registrations=(_reg(p, "adt", f"{10000000 + i * 7:08d}"), _reg(p, "lab", f"L{i:07d}"), _reg(p, "claims", f"U{i:08d}")),
        coverages=(cov,), encounters=tuple(encounters), observations=tuple(obs), claims=tuple(claims),
    )  # fmt: skip


def generate(out: Path, persons: int, seed: int = 7, *, lab_per_file: int = 500, adt_per_file: int = 500, claims_per_file: int | None = None) -> None:
    """Run the three emitters over `persons` hand-made histories into `out`."""
    truth = TruthWriter(out)
    lab, adt, claims = LabEmitter(out, seed), AdtEmitter(out, seed), ClaimsEmitter(out, seed)
    emitters: list[Emitter] = [lab, adt, claims]  # also checks the protocol under mypy
    lab.oru.per_file = lab.orm.per_file = lab_per_file
    adt.stream.per_file = adt_per_file
    if claims_per_file:
        for s in (*claims.streams.values(), claims.remits):
            s.per_file = claims_per_file
    for i in range(persons):
        h = history(i)
        truth.person(h.person)
        for k, em in enumerate(emitters):
            em.emit(h, random.Random(f"{seed}:{i}:{k}"), truth)
    for em in emitters:
        em.close(truth)
    truth.close()
