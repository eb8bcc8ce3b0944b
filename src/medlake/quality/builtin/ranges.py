"""Plausible units and ranges of common labs and vitals, by LOINC (public clinical knowledge).

The bounds are what a living patient can physically show (wide on purpose): a value outside
them is an entry or unit error, not an abnormal result.
"""

from __future__ import annotations

# LOINC -> (accepted UCUM units, plausible min, plausible max)
RANGES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "29463-7": (("kg",), 0.2, 400),  # body weight
    "8302-2": (("cm",), 20, 260),  # body height
    "39156-5": (("kg/m2",), 8, 150),  # BMI
    "8480-6": (("mm[Hg]",), 40, 300),  # systolic blood pressure
    "8462-4": (("mm[Hg]",), 10, 200),  # diastolic blood pressure
    "8867-4": (("/min", "{beats}/min"), 20, 300),  # heart rate
    "40443-4": (("/min", "{beats}/min"), 20, 250),  # resting heart rate
    "9279-1": (("/min", "{breaths}/min"), 4, 80),  # respiratory rate
    "8310-5": (("Cel",), 25, 45),  # body temperature
    "59408-5": (("%",), 40, 100),  # oxygen saturation
    "55423-8": (("steps", "{steps}", "/d"), 0, 100000),  # steps
    "2345-7": (("mg/dL",), 10, 2000),  # glucose
    "4548-4": (("%",), 2, 25),  # HbA1c
    "2160-0": (("mg/dL",), 0.1, 30),  # creatinine
    "2823-3": (("mmol/L", "meq/L"), 1, 12),  # potassium
    "2951-2": (("mmol/L", "meq/L"), 90, 200),  # sodium
    "3094-0": (("mg/dL",), 1, 300),  # urea nitrogen
    "718-7": (("g/dL",), 1, 25),  # hemoglobin
    "777-3": (("10*3/uL",), 1, 2000),  # platelets
    "6690-2": (("10*3/uL",), 0.1, 500),  # leukocytes
    "2093-3": (("mg/dL",), 40, 1000),  # total cholesterol
    "13457-7": (("mg/dL",), 5, 700),  # LDL cholesterol
    "2085-9": (("mg/dL",), 5, 200),  # HDL cholesterol
    "2571-8": (("mg/dL",), 10, 5000),  # triglycerides
    "33914-3": (("mL/min/{1.73_m2}",), 1, 200),  # eGFR
    "30934-4": (("pg/mL",), 0, 50000),  # BNP
    "9318-7": (("mg/g",), 0, 10000),  # urine albumin/creatinine
    "44261-6": (("{score}",), 0, 27),  # PHQ-9 total
}
