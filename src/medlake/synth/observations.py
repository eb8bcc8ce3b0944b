"""Labs and vitals consistent with the person's conditions (HbA1c for diabetics, BP for
hypertensives, eGFR for CKD, BNP in heart-failure stays …), with a few late corrections."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from medlake.synth.clinical import Profile, Visit
from medlake.synth.codes import LABS, PANELS, PHQ9, VITALS
from medlake.synth.model import Encounter, Observation

LAB_CORRECTION_RATE = 0.006  # share of lab results first sent wrong, then corrected
VITAL_CORRECTION_RATE = 0.01  # share of weights first entered in pounds, then corrected


def _flag(value: float, low: float | None, high: float | None) -> str:
    if high is not None and value > high:
        return "HH" if value > high * 3 else "H"
    if low is not None and value < low:
        return "LL" if value < low / 3 else "L"
    return "N"


def panels_for(v: Visit, pr: Profile, rng: random.Random, age: int) -> list[str]:
    """Which panels are drawn at this visit."""
    out: list[str] = []
    if v.kind == "wellness" and age >= 18:
        if age >= 20 and rng.random() < 0.7:
            out.append("lipid")
        if rng.random() < 0.6:
            out.append("bmp")
        if pr.has("diabetes") or (age >= 35 and rng.random() < 0.15):
            out.append("a1c")
        if rng.random() < 0.3:
            out.append("cbc")
    elif v.kind == "followup":
        if v.problem == "diabetes":
            out.append("a1c")
            if rng.random() < 0.5:
                out.append("bmp")
            if rng.random() < 0.3:
                out.append("uacr")
        elif v.problem in ("ckd", "chf") or (v.problem == "hypertension" and rng.random() < 0.3):
            out.append("bmp")
            if v.problem == "chf" and rng.random() < 0.4:
                out.append("bnp")
    elif v.kind in ("emergency", "inpatient"):
        out += ["cbc", "bmp"]
        if v.problem in ("chf", "chest_pain"):
            out.append("bnp")
    return out


def _lab_value(key: str, v: Visit, pr: Profile, rng: random.Random, sex: str, age: int) -> float:
    g = rng.gauss
    if key == "a1c":
        return max(4.2, min(14.5, pr.a1c + g(0, 0.35)))
    if key == "glucose":
        base = 28.7 * pr.a1c - 46.7 if pr.has("diabetes") else rng.uniform(72, 104)
        return max(55, base + g(0, 18))
    if key == "egfr":
        return max(8, pr.egfr + g(0, 4))
    if key == "creatinine":
        return max(0.4, (88 if sex == "M" else 72) / max(pr.egfr, 8) + g(0, 0.05))
    if key == "bun":
        return max(4, 14 + (60 - min(pr.egfr, 60)) * 0.6 + g(0, 3))
    if key == "sodium":
        return 140 + g(0, 2.2)
    if key == "potassium":
        return 4.2 + (0.5 if pr.has("ckd") else 0) + g(0, 0.35)
    if key == "ldl":
        return max(30, pr.ldl + g(0, 12))
    if key == "hdl":
        return rng.uniform(34, 72)
    if key == "trig":
        return rng.uniform(70, 260 if pr.has("diabetes") else 180)
    if key == "chol":
        return max(100, pr.ldl + 50 + g(0, 20))
    if key == "bnp":
        acute = v.kind in ("emergency", "inpatient") and v.problem == "chf"
        return rng.uniform(450, 2200) if acute else rng.uniform(90, 420) if pr.has("chf") else rng.uniform(8, 85)
    if key == "wbc":
        return rng.uniform(11.5, 19) if v.problem == "pneumonia" else rng.uniform(4.6, 10.5)
    if key == "hgb":
        return (14.8 if sex == "M" else 13.2) - (1.4 if pr.has("ckd") else 0) + g(0, 0.9)
    if key == "plt":
        return rng.uniform(160, 390)
    if key == "uacr":
        return rng.uniform(35, 280) if pr.has("ckd") or rng.random() < 0.25 else rng.uniform(3, 28)
    return 0.0


def labs_for(enc: Encounter, v: Visit, pr: Profile, rng: random.Random, sex: str, age: int,
             sources: tuple[str, ...]) -> list[Observation]:
    out: list[Observation] = []
    collected = enc.start + timedelta(minutes=rng.randint(10, 40))
    for n, pkey in enumerate(panels_for(v, pr, rng, age)):
        panel = PANELS[pkey]
        order_id = f"{enc.encounter_id}-L{n + 1}"
        issued = collected + timedelta(minutes=rng.randint(45, 1440))
        for mkey in panel.members:
            lab = LABS[mkey]
            val = round(_lab_value(mkey, v, pr, rng, sex, age), lab.decimals)
            if lab.decimals == 0:
                val = float(int(val))
            first: float = val
            corrected: float | None = None
            cflag = ""
            if rng.random() < LAB_CORRECTION_RATE:  # first sent with a decimal slip, corrected later
                first = round(val * 10, lab.decimals)
                corrected, cflag = val, _flag(val, lab.low, lab.high)
            out.append(Observation(
                observation_id=f"{order_id}-{lab.local_code}", encounter_id=enc.encounter_id,
                category="laboratory", loinc=lab.loinc, display=lab.display, local_code=lab.local_code,
                local_display=lab.local_display, order_id=order_id, panel_loinc=panel.loinc,
                panel_display=panel.display, value=first, unit=lab.unit, ref_low=lab.low, ref_high=lab.high,
                abnormal_flag=_flag(first, lab.low, lab.high), effective=collected, issued=issued,
                corrected_value=corrected, corrected_flag=cflag,
                corrected_at=issued + timedelta(hours=rng.randint(20, 120)) if corrected is not None else None,
                sources=sources,
            ))
    return out


def vitals_for(enc: Encounter, v: Visit, pr: Profile, rng: random.Random, age: int,
               sources: tuple[str, ...]) -> list[Observation]:
    if v.kind == "telehealth":
        return []
    taken = enc.start + timedelta(minutes=rng.randint(3, 15))
    h = pr.height_cm + rng.gauss(0, 0.6)
    bmi = pr.bmi + rng.gauss(0, 0.5)
    w = bmi * (h / 100) ** 2
    values: list[tuple[str, float]] = [("height", round(h, 1)), ("weight", round(w, 1)),
                                       ("bmi", round(w / (h / 100) ** 2, 1))]
    sbp = pr.sbp + rng.gauss(0, 7) + (8 if v.kind == "emergency" else 0)
    values += [("sbp", float(round(sbp))), ("dbp", float(round(min(pr.dbp + rng.gauss(0, 5), sbp - 20)))),
               ("hr", float(round(rng.gauss(76 if age >= 12 else 100, 9))))]
    if v.kind in ("emergency", "inpatient"):
        sick = v.problem in ("pneumonia", "copd", "chf")
        values += [("temp", round(rng.gauss(38.1 if v.problem == "pneumonia" else 36.9, 0.3), 1)),
                   ("spo2", float(round(rng.uniform(86, 93) if sick else rng.uniform(95, 99)))),
                   ("rr", float(round(rng.uniform(22, 30) if sick else rng.uniform(12, 19))))]
    out = []
    for key, val in values:
        vt = VITALS[key]
        first: float = val
        corrected: float | None = None
        if key == "weight" and rng.random() < VITAL_CORRECTION_RATE:
            first, corrected = round(val * 2.20462, 1), val  # entered in pounds
        out.append(Observation(
            observation_id=f"{enc.encounter_id}-V{key.upper()}", encounter_id=enc.encounter_id,
            category="vital-signs", loinc=vt.loinc, display=vt.display, local_code=vt.name,
            local_display=vt.name, value=first, unit=vt.unit, effective=taken, issued=taken,
            corrected_value=corrected,
            corrected_at=enc.end + timedelta(hours=rng.randint(24, 96)) if corrected is not None else None,
            sources=sources,
        ))
    return out


def phq9_for(enc: Encounter, rng: random.Random, sources: tuple[str, ...]) -> Observation:
    loinc, display, unit = PHQ9
    taken: datetime = enc.start + timedelta(minutes=5)
    return Observation(observation_id=f"{enc.encounter_id}-PHQ9", encounter_id=enc.encounter_id,
                       category="survey", loinc=loinc, display=display, local_code="PHQ9",
                       local_display="PHQ-9 TOTAL", value=float(rng.randint(3, 22)), unit=unit,
                       effective=taken, issued=taken, sources=sources)
