"""Curated public code tables for the generator (codes only where the licence asks for it).

ICD-10-CM / ICD-9-CM (public domain), LOINC (codes and names, LOINC notice applies), RxNorm
(public-domain subset), NDC (FDA, public), CVX (CDC, public), HCPCS Level II (public),
ICD-10-PCS (public). CPT codes appear as bare numbers only, never with descriptors. SNOMED CT
concept ids are used as bare codes only, without descriptions. CARC codes are bare codes.

The NDCs are package codes of real products of the named drug; the RxNorm ids are the clinical
drug (SCD) concepts. The pairing is at ingredient/strength level (a branded package may stand for
its SCD), which is all the generator needs.
"""

from __future__ import annotations

from typing import NamedTuple

# --- identifier systems of the synthetic source systems (for FHIR `identifier.system`) ------
MRN_SYSTEMS: dict[str, str] = {
    "ehr": "urn:oid:2.16.840.1.113883.3.7777.1.1",  # Lakeshore General hospital MRN (also ADT)
    "adt": "urn:oid:2.16.840.1.113883.3.7777.1.1",
    "clinic": "urn:oid:2.16.840.1.113883.3.7777.2.1",
    "fhir_ehr": "urn:oid:2.16.840.1.113883.3.7777.3.1",
    "lab": "urn:oid:2.16.840.1.113883.3.7777.4.1",
    "claims": "urn:oid:2.16.840.1.113883.3.7777.5.1",
    "pharmacy": "urn:oid:2.16.840.1.113883.3.7777.6.1",
    "wearables": "urn:oid:2.16.840.1.113883.3.7777.7.1",
}
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"


class Dx(NamedTuple):
    icd10: str
    display: str
    icd9: str  # "" when ICD-9-CM has no equivalent (e.g. COVID-19)
    snomed: str


# Chronic conditions (key → code).
CHRONIC: dict[str, Dx] = {
    "diabetes": Dx("E119", "Type 2 diabetes mellitus without complications", "25000", "44054006"),
    "hypertension": Dx("I10", "Essential (primary) hypertension", "4019", "59621000"),
    "hyperlipidemia": Dx("E785", "Hyperlipidemia, unspecified", "2724", "55822004"),
    "chf": Dx("I509", "Heart failure, unspecified", "4280", "42343007"),
    "copd": Dx("J449", "Chronic obstructive pulmonary disease, unspecified", "496", "13645005"),
    "ckd": Dx("N1830", "Chronic kidney disease, stage 3 unspecified", "5853", "433144002"),
    "depression": Dx("F329", "Major depressive disorder, single episode, unspecified", "311", "35489007"),
    "asthma": Dx("J45909", "Unspecified asthma, uncomplicated", "49390", "195967001"),
    "obesity": Dx("E669", "Obesity, unspecified", "27800", "414916001"),
}

# Acute problems seen in ambulatory and ED visits.
ACUTE: dict[str, Dx] = {
    "uri": Dx("J069", "Acute upper respiratory infection, unspecified", "4659", "54150009"),
    "uti": Dx("N390", "Urinary tract infection, site not specified", "5990", "68566005"),
    "back_pain": Dx("M5450", "Low back pain, unspecified", "7242", "279039007"),
    "bronchitis": Dx("J209", "Acute bronchitis, unspecified", "4660", "10509002"),
    "otitis": Dx("H6690", "Otitis media, unspecified, unspecified ear", "3829", "65363002"),
    "sprain": Dx("S93401A", "Sprain of unspecified ligament of right ankle, initial encounter", "84500", "44465007"),
    "chest_pain": Dx("R079", "Chest pain, unspecified", "78650", "29857009"),
    "pneumonia": Dx("J189", "Pneumonia, unspecified organism", "486", "233604007"),
    "covid": Dx("U071", "COVID-19", "", "840539006"),
    "gastroenteritis": Dx("K529", "Noninfective gastroenteritis and colitis, unspecified", "5589", "25374005"),
}

# Exacerbations / admission diagnoses.
CHF_EXACERBATION = Dx("I5023", "Acute on chronic systolic (congestive) heart failure", "42823", "")
COPD_EXACERBATION = Dx("J441", "Chronic obstructive pulmonary disease with (acute) exacerbation", "49121", "195951007")

WELLNESS_ADULT = Dx("Z0000", "Encounter for general adult medical examination without abnormal findings", "V700", "")
WELLNESS_CHILD = Dx("Z00129", "Encounter for routine child health examination without abnormal findings", "V202", "")
SCREEN_MAMMO = Dx("Z1231", "Encounter for screening mammogram for malignant neoplasm of breast", "V7612", "")
SCREEN_COLON = Dx("Z1211", "Encounter for screening for malignant neoplasm of colon", "V7651", "")
VACCINATION = Dx("Z23", "Encounter for immunization", "V059", "")

DX_BY_CODE: dict[str, Dx] = {d.icd10: d for d in (
    *CHRONIC.values(), *ACUTE.values(), CHF_EXACERBATION, COPD_EXACERBATION, WELLNESS_ADULT,
    WELLNESS_CHILD, SCREEN_MAMMO, SCREEN_COLON, VACCINATION)}


class Lab(NamedTuple):
    loinc: str
    display: str
    local_code: str
    local_display: str
    unit: str
    low: float | None
    high: float | None
    decimals: int


LABS: dict[str, Lab] = {
    "a1c": Lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "A1C", "HEMOGLOBIN A1C", "%", 4.0, 5.6, 1),
    "glucose": Lab("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "GLU", "GLUCOSE", "mg/dL", 70, 99, 0),
    "bun": Lab("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "BUN", "UREA NITROGEN", "mg/dL", 7, 20, 0),
    "creatinine": Lab("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "CREAT", "CREATININE", "mg/dL", 0.6, 1.3, 2),
    "egfr": Lab("33914-3", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)", "EGFR", "EGFR (MDRD)", "mL/min/{1.73_m2}", 60, None, 0),
    "sodium": Lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "NA", "SODIUM", "mmol/L", 136, 145, 0),
    "potassium": Lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "K", "POTASSIUM", "mmol/L", 3.5, 5.1, 1),
    "chol": Lab("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "CHOL", "CHOLESTEROL, TOTAL", "mg/dL", None, 200, 0),
    "trig": Lab("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "TRIG", "TRIGLYCERIDES", "mg/dL", None, 150, 0),
    "hdl": Lab("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "HDL", "HDL CHOLESTEROL", "mg/dL", 40, None, 0),
    "ldl": Lab("13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation", "LDLC", "LDL CHOLESTEROL CALC", "mg/dL", None, 100, 0),
    "bnp": Lab("30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma", "BNP", "B-TYPE NATRIURETIC PEPTIDE", "pg/mL", None, 100, 0),
    "wbc": Lab("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "WBC", "WBC COUNT", "10*3/uL", 4.5, 11.0, 1),
    "hgb": Lab("718-7", "Hemoglobin [Mass/volume] in Blood", "HGB", "HEMOGLOBIN", "g/dL", 12.0, 17.5, 1),
    "plt": Lab("777-3", "Platelets [#/volume] in Blood by Automated count", "PLT", "PLATELET COUNT", "10*3/uL", 150, 400, 0),
    "uacr": Lab("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "UACR", "MICROALB/CREAT RATIO", "mg/g", None, 30, 0),
}


class Panel(NamedTuple):
    loinc: str
    display: str
    local_code: str
    members: tuple[str, ...]
    cpt: str  # billing code (number only)


PANELS: dict[str, Panel] = {
    "bmp": Panel("51990-0", "Basic metabolic panel - Blood", "BMP", ("glucose", "bun", "creatinine", "egfr", "sodium", "potassium"), "80048"),
    "lipid": Panel("24331-1", "Lipid 1996 panel - Serum or Plasma", "LIPID", ("chol", "trig", "hdl", "ldl"), "80061"),
    "a1c": Panel("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "A1C", ("a1c",), "83036"),
    "cbc": Panel("58410-2", "CBC panel - Blood by Automated count", "CBC", ("wbc", "hgb", "plt"), "85027"),
    "bnp": Panel("30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma", "BNP", ("bnp",), "83880"),
    "uacr": Panel("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "UACR", ("uacr",), "82043"),
}


class Vital(NamedTuple):
    loinc: str
    display: str
    unit: str
    name: str  # the EHR's own vital name


VITALS: dict[str, Vital] = {
    "height": Vital("8302-2", "Body height", "cm", "HEIGHT"),
    "weight": Vital("29463-7", "Body weight", "kg", "WEIGHT"),
    "bmi": Vital("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "BMI"),
    "sbp": Vital("8480-6", "Systolic blood pressure", "mm[Hg]", "BP_SYSTOLIC"),
    "dbp": Vital("8462-4", "Diastolic blood pressure", "mm[Hg]", "BP_DIASTOLIC"),
    "hr": Vital("8867-4", "Heart rate", "/min", "PULSE"),
    "temp": Vital("8310-5", "Body temperature", "Cel", "TEMP"),
    "spo2": Vital("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "SPO2"),
    "rr": Vital("9279-1", "Respiratory rate", "/min", "RESP_RATE"),
}
PHQ9 = ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]", "{score}")
STEPS = ("55423-8", "Number of steps in unspecified time Pedometer", "{steps}")
RESTING_HR = ("40443-4", "Heart rate --resting", "/min")


class Drug(NamedTuple):
    rxnorm: str
    display: str
    ndc10: str  # the package's own 10-digit hyphenated form
    dose: str
    sig: str
    per_day: float  # units per day (quantity = per_day * days_supply)


DRUGS: dict[str, Drug] = {
    "metformin": Drug("861007", "metformin hydrochloride 500 MG Oral Tablet", "0093-1048-01", "500 mg", "Take 1 tablet by mouth twice daily with meals", 2),
    "lisinopril": Drug("314076", "lisinopril 10 MG Oral Tablet", "68180-513-01", "10 mg", "Take 1 tablet by mouth once daily", 1),
    "amlodipine": Drug("197361", "amlodipine 5 MG Oral Tablet", "0069-1530-68", "5 mg", "Take 1 tablet by mouth once daily", 1),
    "atorvastatin": Drug("259255", "atorvastatin 80 MG Oral Tablet", "0071-0158-23", "80 mg", "Take 1 tablet by mouth at bedtime", 1),
    "simvastatin": Drug("312961", "simvastatin 20 MG Oral Tablet", "0006-0740-31", "20 mg", "Take 1 tablet by mouth at bedtime", 1),
    "clopidogrel": Drug("309362", "clopidogrel 75 MG Oral Tablet", "63653-1171-1", "75 mg", "Take 1 tablet by mouth once daily", 1),
    "furosemide": Drug("313988", "furosemide 40 MG Oral Tablet", "0054-4299-25", "40 mg", "Take 1 tablet by mouth once daily", 1),
    "albuterol": Drug("745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "0173-0682-20", "90 mcg", "Inhale 2 puffs every 4 to 6 hours as needed", 0.0333),
    "fluticasone": Drug("895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", "0173-0718-20", "44 mcg", "Inhale 2 puffs twice daily", 0.0333),
    "fluticasone_salmeterol": Drug("896209", "60 ACTUAT fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler", "0173-0696-00", "250/50 mcg", "Inhale 1 puff twice daily", 0.0333),
    "sertraline": Drug("312940", "sertraline 50 MG Oral Tablet", "0049-4900-66", "50 mg", "Take 1 tablet by mouth once daily", 1),
}


def ndc11(ndc10: str) -> str:
    """The 11-digit 5-4-2 form of a hyphenated 10-digit NDC (4-4-2, 5-3-2 or 5-4-1)."""
    a, b, c = ndc10.split("-")
    return a.zfill(5) + b.zfill(4) + c.zfill(2)


class Vaccine(NamedTuple):
    cvx: str
    display: str
    cpt: str  # product billing code (number only)


VACCINES: dict[str, Vaccine] = {
    "flu": Vaccine("150", "Influenza, injectable, quadrivalent, preservative free", "90686"),
    "covid_pfizer": Vaccine("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose", "91300"),
    "covid_moderna": Vaccine("207", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 100 mcg/0.5mL dose or 50 mcg/0.25mL dose", "91301"),
    "covid_unspecified": Vaccine("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION", ""),
    "hepb": Vaccine("08", "Hep B, adolescent or pediatric", "90744"),
    "dtap": Vaccine("20", "DTaP", "90700"),
    "ipv": Vaccine("10", "IPV", "90713"),
    "hib": Vaccine("49", "Hib (PRP-OMP)", "90647"),
    "pcv13": Vaccine("133", "Pneumococcal conjugate PCV 13", "90670"),
    "rota": Vaccine("116", "rotavirus, pentavalent", "90680"),
    "mmr": Vaccine("03", "MMR", "90707"),
    "varicella": Vaccine("21", "varicella", "90716"),
    "hepa": Vaccine("83", "Hep A, ped/adol, 2 dose", "90633"),
    "tdap": Vaccine("115", "Tdap", "90715"),
    "hpv": Vaccine("165", "HPV9", "90651"),
    "zoster": Vaccine("187", "zoster vaccine recombinant", "90750"),
    "ppsv23": Vaccine("33", "pneumococcal polysaccharide PPV23", "90732"),
}

# Childhood schedule: (age in months, vaccine key).
CHILD_SCHEDULE: tuple[tuple[int, str], ...] = (
    (0, "hepb"), (2, "hepb"), (2, "dtap"), (2, "ipv"), (2, "hib"), (2, "pcv13"), (2, "rota"),
    (4, "dtap"), (4, "ipv"), (4, "hib"), (4, "pcv13"), (4, "rota"),
    (6, "hepb"), (6, "dtap"), (6, "ipv"), (6, "pcv13"),
    (12, "mmr"), (12, "varicella"), (12, "hepa"), (12, "hib"), (12, "pcv13"),
    (15, "dtap"), (18, "hepa"), (48, "dtap"), (48, "ipv"), (48, "mmr"), (48, "varicella"),
    (132, "tdap"), (132, "hpv"), (138, "hpv"),
)

# Procedures: key → (system, code, display). CPT entries have no display (licence).
PROCEDURES: dict[str, tuple[str, str, str]] = {
    "mammogram": ("CPT", "77067", ""),
    "colonoscopy": ("HCPCS", "G0121", "Colorectal cancer screening; colonoscopy on individual not meeting criteria for high risk"),
    "ecg": ("CPT", "93000", ""),
    "chest_xray": ("CPT", "71046", ""),
    "venipuncture": ("CPT", "36415", ""),
    "flu_admin": ("HCPCS", "G0008", "Administration of influenza virus vaccine"),
    "vaccine_admin": ("CPT", "90471", ""),
    "depression_screen": ("HCPCS", "G0444", "Annual depression screening, 5 to 15 minutes"),
    "ventilation_cpap": ("ICD10PCS", "5A09357", "Assistance with Respiratory Ventilation, less than 24 Consecutive Hours, Continuous Positive Airway Pressure"),
    "picc": ("ICD10PCS", "02HV33Z", "Insertion of Infusion Device into Superior Vena Cava, Percutaneous Approach"),
    "nebulizer": ("HCPCS", "J7613", "Albuterol, inhalation solution, FDA-approved final product, non-compounded, administered through DME, unit dose, 1 mg"),
    "ketorolac": ("HCPCS", "J1885", "Injection, ketorolac tromethamine, per 15 mg"),
}

# E/M and visit codes (numbers only) by encounter type.
EM_CODES: dict[str, tuple[str, ...]] = {
    "wellness_adult": ("99396", "99397"),
    "wellness_child": ("99391", "99392", "99393", "99394", "99395"),
    "awv": ("G0439",),  # HCPCS: Medicare annual wellness visit, subsequent
    "ambulatory": ("99212", "99213", "99214"),
    "telehealth": ("99212", "99213"),
    "emergency": ("99283", "99284", "99285"),
    "inpatient": ("99222", "99223"),
}

# Charges in USD by billing code (professional/facility list prices of the synthetic system).
CHARGES: dict[str, float] = {
    "99212": 95.0, "99213": 145.0, "99214": 215.0, "99283": 420.0, "99284": 690.0, "99285": 1050.0,
    "99222": 380.0, "99223": 520.0, "99391": 210.0, "99392": 220.0, "99393": 220.0, "99394": 240.0,
    "99395": 250.0, "99396": 270.0, "99397": 290.0, "G0439": 175.0, "77067": 310.0, "G0121": 1450.0,
    "93000": 85.0, "71046": 160.0, "36415": 18.0, "G0008": 35.0, "90471": 35.0, "G0444": 40.0,
    "J7613": 22.0, "J1885": 28.0, "80048": 65.0, "80061": 90.0, "83036": 55.0, "85027": 45.0,
    "83880": 120.0, "82043": 40.0,
}

# Inpatient: MS-DRG by principal problem, with a facility charge base.
DRGS: dict[str, tuple[str, float]] = {
    "chf": ("292", 24500.0),
    "copd": ("191", 21000.0),
    "pneumonia": ("194", 23000.0),
    "chest_pain": ("313", 9800.0),
    "other": ("392", 14500.0),  # esophagitis, gastroenteritis & misc digestive disorders w/o MCC
}
REVENUE_CODES: dict[str, str] = {
    "room": "0120", "pharmacy": "0250", "lab": "0300", "radiology": "0320", "ed": "0450", "clinic": "0510",
    "respiratory": "0410", "ekg": "0730",
}

# CARC group + reason codes (codes only, never their text).
DENIALS: tuple[tuple[str, str], ...] = (
    ("CO", "16"), ("CO", "29"), ("CO", "50"), ("CO", "197"), ("CO", "18"), ("CO", "97"), ("PR", "204"),
)

# NUCC taxonomy codes (public) for attending practitioners.
SPECIALTIES: dict[str, tuple[str, str]] = {
    "family": ("207Q00000X", "Family Medicine"),
    "internal": ("207R00000X", "Internal Medicine"),
    "pediatrics": ("208000000X", "Pediatrics"),
    "emergency": ("207P00000X", "Emergency Medicine"),
    "hospitalist": ("208M00000X", "Hospitalist"),
    "cardiology": ("207RC0000X", "Cardiovascular Disease"),
    "pulmonology": ("207RP1001X", "Pulmonary Disease"),
    "radiology": ("2085R0202X", "Diagnostic Radiology"),
    "gastro": ("207RG0100X", "Gastroenterology"),
}
