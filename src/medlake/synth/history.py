"""One person's whole history: identity, systems, visits placed in facilities, and every fact
with the systems that record it."""

from __future__ import annotations

import random
import zlib
from datetime import date, timedelta
from typing import Any

from medlake.synth import care, clinical, observations
from medlake.synth.billing import claims_for
from medlake.synth.codes import ACUTE, CHRONIC, DRGS, DX_BY_CODE
from medlake.synth.defects import registrations_for
from medlake.synth.model import (
    ADT,
    AMB,
    CLAIMS,
    CLINIC,
    EHR,
    EMER,
    FHIR_EHR,
    IMP,
    LAB,
    PHARMACY,
    VR,
    WEARABLES,
    Claim,
    Condition,
    Encounter,
    Facility,
    Immunization,
    MedicationOrder,
    Observation,
    PersonHistory,
    Procedure,
)
from medlake.synth.population import (
    PERIOD_END,
    age_on,
    coverage_on,
    coverages_for,
    make_person,
    registered_sources,
    rng_for,
    wearable_for,
)
from medlake.synth.providers import CLINIC_SITE, HOSPITAL, MEDICAL_CENTER, practitioner

_SITE: dict[str, Facility] = {CLINIC: CLINIC_SITE, EHR: HOSPITAL, FHIR_EHR: MEDICAL_CENTER}
_CARE = (CLINIC, EHR, FHIR_EHR)
_CLASS = {"emergency": EMER, "inpatient": IMP, "telehealth": VR}
_TYPE = {"followup": "followup", "wellness": "wellness", "screening": "screening", "immunization": "immunization",
         "ambulatory": "ambulatory", "telehealth": "followup", "emergency": "emergency", "inpatient": "inpatient"}


ELECTIVE_PERCENT = 30
"""Share of inpatient stays that are planned (admitted on a physician's referral and
scheduled beforehand, so the ADT feed sends an SIU^S12 for them); the rest come through the ED."""


def _admit_source(cls: str, encounter_id: str) -> str:
    """UB-04 point of origin: `1` (referral) for planned stays and ED visits, `7` (ED) for the
    other stays. Decided by a hash of the encounter id, so no random draw shifts."""
    if cls == IMP:
        return "1" if zlib.crc32(encounter_id.encode()) % 100 < ELECTIVE_PERCENT else "7"
    return "1" if cls == EMER else ""


def build_history(seed: int, index: int, fake: Any) -> PersonHistory:
    p = make_person(seed, index, fake)
    rng = rng_for(seed, "life", index)
    sources = registered_sources(seed, index)
    coverages = coverages_for(p, rng)
    registrations = registrations_for(seed, p, sources, coverages)
    known = {r.source for r in registrations}
    care_systems = [s for s in _CARE if s in known]
    rng.shuffle(care_systems)
    pr = clinical.profile_for(p, rng)
    visits = clinical.plan_visits(p, pr, rng)
    visits = sorted(visits + care.plan_immunizations(p, visits, rng), key=lambda v: v.start)
    age_now = age_on(p.birth_date, PERIOD_END)
    drugs = care.regimen(pr, age_now, rng)

    encounters: list[Encounter] = []
    obs: list[Observation] = []
    procs: list[Procedure] = []
    imms: list[Immunization] = []
    meds: list[MedicationOrder] = []
    claims: list[Claim] = []
    acute: list[Condition] = []
    ordered: set[tuple[str, int]] = set()
    enc_ids: dict[int, str] = {}
    bill = CLAIMS in known
    systems_used: set[str] = set()
    last_day = min(PERIOD_END, p.death_date or PERIOD_END)
    for n, v in enumerate(visits):
        age = age_on(p.birth_date, v.start.date())
        enc = _encounter(p.person_id, n, v, rng, known, care_systems, age, enc_ids, last_day)
        enc_ids[id(v)] = enc.encounter_id
        care_src = tuple(s for s in enc.sources if s in _CARE)
        systems_used.update(care_src)
        encounters.append(enc)
        # facts no system records are not generated (they could never be emitted)
        lab_src = care_src + ((LAB,) if LAB in known else ())
        e_labs = observations.labs_for(enc, v, pr, rng, p.sex, age, lab_src) if lab_src or bill else []
        e_obs = e_labs + (observations.vitals_for(enc, v, pr, rng, age, care_src) if care_src else [])
        if care_src and v.problem == "depression" and rng.random() < 0.6:
            e_obs.append(observations.phq9_for(enc, rng, care_src))
        e_procs = care.procedures_for(enc, care.procedure_keys(v, rng, age), rng, care_src) if care_src or bill else []
        e_imms = care.immunizations_for(enc, v, rng, care_src) if care_src or bill else []
        obs += e_obs
        procs += e_procs
        imms += e_imms
        if v.kind == "ambulatory" and v.problem in ACUTE:
            d = ACUTE[v.problem]
            acute.append(Condition(condition_id=f"{enc.encounter_id}-C", icd10=d.icd10, display=d.display, icd9=d.icd9,
                                   snomed=d.snomed, onset=enc.start.date(), abatement=enc.start.date() + timedelta(days=14), chronic=False, encounter_id=enc.encounter_id, sources=care_src))
        if enc.enc_class in (AMB, VR) and v.kind in ("wellness", "followup", "telehealth"):
            for drug, cond in drugs.items() if care_src or PHARMACY in known else ():
                if (drug, v.start.year) not in ordered and pr.conditions[cond] <= v.start.date():
                    ordered.add((drug, v.start.year))
                    meds.append(care.order(drug, enc, len(meds), enc.attending, rng, last_day,
                                           care_src + ((PHARMACY,) if PHARMACY in known else ())))
        cov = coverage_on(coverages, v.start.date()) if bill else None
        if cov is not None:
            claims += claims_for(enc, age, cov, e_labs, e_procs, e_imms, v.problem, rng, (CLAIMS,))
    conditions = [_chronic(p.person_id, key, onset, encounters, tuple(s for s in _CARE if s in systems_used))
                  for key, onset in sorted(pr.conditions.items(), key=lambda kv: (kv[1], kv[0]))]
    return PersonHistory(
        person=p, registrations=registrations, coverages=coverages, encounters=tuple(encounters),
        conditions=tuple(conditions + acute), observations=tuple(obs), medications=tuple(meds),
        procedures=tuple(procs), immunizations=tuple(imms), claims=tuple(claims),
        wearable=wearable_for(p, rng, pr.has("obesity")) if WEARABLES in known else None,
    )


def _chronic(pid: str, key: str, onset: date, encounters: list[Encounter], sources: tuple[str, ...]) -> Condition:
    d = CHRONIC[key]
    first = next((e.encounter_id for e in encounters if e.start.date() >= onset), "")
    return Condition(condition_id=f"{pid}-{key}", icd10=d.icd10, display=d.display, icd9=d.icd9, snomed=d.snomed,
                     onset=onset, chronic=True, encounter_id=first, sources=sources)


def _encounter(pid: str, n: int, v: clinical.Visit, rng: random.Random, known: set[str], care_systems: list[str],
               age: int, previous_ids: dict[int, str], last_day: date) -> Encounter:
    cls = _CLASS.get(v.kind, AMB)
    if cls in (EMER, IMP):
        if EHR in known or ADT in known or FHIR_EHR not in known:
            facility, sources = HOSPITAL, tuple(s for s in (EHR, ADT) if s in known)
        else:
            facility, sources = MEDICAL_CENTER, (FHIR_EHR,)
        specialty = "emergency" if cls == EMER else rng.choice(("hospitalist", "hospitalist", "cardiology", "pulmonology"))
    else:
        if care_systems:
            system = care_systems[0] if rng.random() < 0.8 or len(care_systems) == 1 else rng.choice(care_systems[1:])
            facility, sources = _SITE[system], (system,)
        else:
            facility, sources = CLINIC_SITE, ()
        specialty = "pediatrics" if age < 18 else rng.choice(("family", "internal"))
        if v.screening == "mammogram":
            specialty = "radiology"
        elif v.screening == "colonoscopy":
            specialty = "gastro"
    location = {EMER: "ED^" + f"{rng.randint(1, 24):02d}", IMP: rng.choice(("4W", "5E", "6N")) + f"^{rng.randint(401, 440)}^A",
                }.get(cls, {"NFC": "NFC FAMILY MED", "LGH": "LGH OUTPATIENT", "RHMC": "RHMC PRIMARY CARE"}[facility.facility_id])
    end = v.end
    dispo = ""
    if cls in (EMER, IMP):
        dispo = "01"
        if cls == IMP:
            died = last_day < PERIOD_END and v.end.date() >= last_day
            dispo = "20" if died else rng.choices(("01", "06", "03"), weights=(75, 15, 10))[0]
    readmit = previous_ids.get(id(v.index_stay), "") if v.index_stay is not None else ""
    return Encounter(
        encounter_id=f"E{pid[1:]}-{n + 1:03d}", enc_class=cls, type_code=_TYPE.get(v.kind, v.kind),
        start=v.start, end=end, tz=facility.tz, facility=facility, location=location,
        attending=practitioner(rng, specialty), reason_codes=tuple(c for c in v.reasons if c in DX_BY_CODE),
        discharge_disposition=dispo, admit_source=_admit_source(cls, f"E{pid[1:]}-{n + 1:03d}"),
        readmission_of=readmit, drg=DRGS.get(v.problem, DRGS["other"])[0] if cls == IMP else "",
        sources=sources + ((CLAIMS,) if CLAIMS in known else ()),
    )
