"""The true life course of one synthetic person, as emitters see it.

Everything here is the *truth*: what really happened to the person. Emitters turn it into what
source systems would have recorded (with their own identifiers, formats and defects).

Conventions every emitter can rely on:

- Dates are `datetime.date`; clock times are naive `datetime.datetime` in the *local* time of
  the facility where they happened; the zone name travels beside them (`Encounter.tz`).
- Codes are codes only. CPT codes carry no description (licence); CARC codes carry no text.
- `sources` on a fact lists the source systems (folder names, see `SOURCES`) that record it;
  an emitter writes a fact only when its own `source` is in that tuple.
- A person is known to a system through a `Registration`: the identifiers and the demographics
  *as that system holds them* (possibly with typos, nicknames, a swapped DOB …; the defects
  applied are listed in `Registration.variants`). Emitters print the registration, never
  `Person` directly, so matching has something to do.

Stability: fields are only ever added (keyword-only, with defaults), never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Source systems (folder names under OUT/).
EHR = "ehr"
CLINIC = "clinic"
FHIR_EHR = "fhir_ehr"
LAB = "lab"
ADT = "adt"
CLAIMS = "claims"
PHARMACY = "pharmacy"
WEARABLES = "wearables"
SOURCES: tuple[str, ...] = (EHR, CLINIC, FHIR_EHR, LAB, ADT, CLAIMS, PHARMACY, WEARABLES)

# Encounter classes (HL7 v3 ActCode, as FHIR Encounter.class uses them).
AMB = "AMB"
EMER = "EMER"
IMP = "IMP"
OBSENC = "OBSENC"
VR = "VR"

@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """The person's true identity (what `truth/persons.csv` holds)."""

    person_id: str  # "P0000001" — stable, derived from the person index
    index: int  # 0-based index in the population (drives every deterministic derivation)
    given: str
    family: str  # current family name
    middle: str = ""
    maiden_family: str = ""  # family name at birth when it changed by marriage, else ""
    sex: str  # "M" | "F" (administrative sex)
    birth_date: date
    death_date: date | None = None
    ssn: str  # "123-45-6789"
    address_line: str
    city: str
    state: str  # 2-letter USPS code
    zip: str  # 5 digits
    previous_address_line: str = ""  # set when the person moved during the period
    previous_city: str = ""
    previous_zip: str = ""
    moved_on: date | None = None
    phone: str  # "312-555-0142"
    email: str
    race: str  # CDC race code: 2106-3 White, 2054-5 Black, 2028-9 Asian, 1002-5 AIAN, 2076-8 NHPI, 2131-1 Other
    race_display: str
    ethnicity: str  # 2135-2 Hispanic or Latino, 2186-5 Not Hispanic or Latino
    ethnicity_display: str
    language: str  # BCP-47 / ISO 639-1: "en", "es", …
    marital: str  # HL7 v2 table 0002 / v3 MaritalStatus: S M D W


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """How one source system knows the person (identifiers + demographics as recorded)."""

    source: str  # one of SOURCES
    mrn: str  # the system's own patient number (may be shared with another person: defect)
    given: str
    family: str
    middle: str = ""
    sex: str  # "M" | "F" | "U"
    birth_date: date | None  # None: missing DOB (defect)
    address_line: str
    city: str
    state: str
    zip: str
    phone: str
    email: str
    ssn: str = ""  # "" when the system does not hold it
    variants: tuple[str, ...] = ()  # identity defects applied: "typo", "nickname", "dob_swap", …


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    payer_id: str  # e.g. "MCR01", "MCD-IL", "BCBS01"
    payer_name: str
    payer_type: str  # "medicare" | "medicaid" | "commercial" | "selfpay"
    member_id: str
    group_number: str = ""
    plan: str  # plan name, e.g. "Medicare Part A/B", "PPO Gold"
    relationship: str = "18"  # X12 individual relationship code; 18 = self
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Facility:
    facility_id: str  # short code, e.g. "NMH"
    name: str
    npi: str  # 10-digit organisation NPI (Luhn-valid with the 80840 prefix)
    tz: str  # IANA zone of the facility's clocks
    address_line: str
    city: str
    state: str
    zip: str
    tax_id: str = ""  # EIN "36-1234567"


@dataclass(frozen=True, slots=True, kw_only=True)
class Practitioner:
    npi: str  # 10-digit individual NPI (Luhn-valid)
    given: str
    family: str
    specialty: str  # NUCC taxonomy code, e.g. "207Q00000X" family medicine
    specialty_display: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Encounter:
    encounter_id: str  # "E<person>-<n>", unique in the population
    enc_class: str  # AMB | EMER | IMP | OBSENC | VR
    type_code: str  # "wellness" | "ambulatory" | "emergency" | "inpatient" | "followup"
    start: datetime  # naive, local to `tz`
    end: datetime  # naive, local to `tz`
    tz: str  # IANA zone of start/end
    facility: Facility
    location: str  # unit/room, e.g. "4W^412^A" parts joined by "^" or "CLINIC 2"
    attending: Practitioner
    reason_codes: tuple[str, ...] = ()  # ICD-10-CM codes (no dot) that motivated the visit
    discharge_disposition: str = ""  # UB-04 patient status: 01 home, 03 SNF, 06 home health, 20 expired
    admit_source: str = ""  # UB-04 point of origin: 1 non-health-care, 7 ED, …
    readmission_of: str = ""  # encounter_id of the index stay when this is a 30-day readmission
    drg: str = ""  # MS-DRG for inpatient stays
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    condition_id: str
    icd10: str  # ICD-10-CM without dot, e.g. "E119"
    display: str
    icd9: str = ""  # legacy ICD-9-CM equivalent without dot (for systems that still send it)
    snomed: str = ""  # SNOMED CT concept id where natural (code only, no display)
    onset: date
    abatement: date | None = None
    chronic: bool = True
    encounter_id: str = ""  # the encounter where it was first recorded
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    observation_id: str
    encounter_id: str
    category: str  # "laboratory" | "vital-signs" | "survey"
    loinc: str
    display: str
    local_code: str = ""  # the lab system's own test code
    local_display: str = ""
    order_id: str = ""  # groups results of one order (one ORU message)
    panel_loinc: str = ""  # the ordered panel, e.g. "24323-8" CMP
    panel_display: str = ""
    value: float | str  # as first reported
    unit: str = ""  # UCUM
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str = ""  # e.g. "<5.7"
    abnormal_flag: str = ""  # HL7 v2 table 0078: "" / N / H / L / HH / LL / A
    effective: datetime  # naive, local to the encounter's tz
    issued: datetime | None = None  # result time
    status: str = "final"  # "final" | "preliminary" | "corrected"
    corrected_value: float | str | None = None  # set when the first value was wrong: a later correction sends this
    corrected_flag: str = ""
    corrected_at: datetime | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicationOrder:
    order_id: str
    encounter_id: str
    rxnorm: str  # RxNorm SCD/SBD concept id
    display: str
    ndc: str  # 11-digit NDC, no hyphens (5-4-2)
    ndc10: str  # the package's 10-digit labeler form with hyphens (4-4-2, 5-3-2 or 5-4-1)
    dose: str  # "500 mg"
    sig: str  # "1 tab by mouth twice daily"
    quantity: float
    days_supply: int
    refills: int
    start: date
    stop: date | None = None
    prescriber: Practitioner
    fill_dates: tuple[date, ...] = ()  # pharmacy fills that actually happened
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Procedure:
    procedure_id: str
    encounter_id: str
    system: str  # "ICD10PCS" | "HCPCS" | "CPT"
    code: str
    display: str = ""  # always "" for CPT (licence)
    performed: datetime  # naive, local to the encounter's tz
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Immunization:
    immunization_id: str
    encounter_id: str
    cvx: str
    display: str
    date: date
    lot: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    group: str  # CARC group code: CO, PR, OA, PI (code only)
    reason: str  # CARC reason code, e.g. "45", "1", "2", "97" (code only, never its text)
    amount: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimLine:
    line_no: int
    system: str  # "HCPCS" | "CPT" (code only)
    code: str
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""  # institutional claims: 4-digit UB-04 revenue code
    units: int = 1
    charge: float
    allowed: float = 0.0
    paid: float = 0.0
    adjustments: tuple[Adjustment, ...] = ()
    service_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    claim_id: str  # patient control number (CLM01)
    encounter_id: str
    claim_type: str  # "professional" (837P) | "institutional" (837I)
    payer_id: str
    payer_name: str
    member_id: str
    billing: Facility
    rendering: Practitioner
    place_of_service: str = ""  # CMS POS code for professional claims: 11 office, 23 ED, 21 inpatient
    type_of_bill: str = ""  # institutional: e.g. "0111" inpatient, "0131" outpatient
    diagnoses: tuple[str, ...] = ()  # ICD-10-CM without dot, principal first
    lines: tuple[ClaimLine, ...] = ()
    total_charge: float
    paid: float = 0.0
    patient_responsibility: float = 0.0
    status: str = "paid"  # "paid" | "denied" | "partial" (X12 835 CLP02: 1 paid, 4 denied, …)
    claim_adjustments: tuple[Adjustment, ...] = ()
    submitted: date
    paid_date: date | None = None
    payer_claim_control: str = ""  # payer's ICN (CLP07)
    check_number: str = ""  # TRN02 / EFT trace of the remittance (shared by a payer's claims paid the same week)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WearableDevice:
    device_id: str
    model: str  # e.g. "FitTrack Charge 5"
    start: date
    mean_steps: int  # the person's typical daily steps
    resting_hr: int  # typical resting heart rate


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonHistory:
    """One person and everything that happened to them (sorted by time within each tuple)."""

    person: Person
    registrations: tuple[Registration, ...] = ()
    coverages: tuple[Coverage, ...] = ()
    encounters: tuple[Encounter, ...] = ()
    conditions: tuple[Condition, ...] = ()
    observations: tuple[Observation, ...] = ()
    medications: tuple[MedicationOrder, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    immunizations: tuple[Immunization, ...] = ()
    claims: tuple[Claim, ...] = ()
    wearable: WearableDevice | None = None
    extras: tuple[tuple[str, str], ...] = ()  # free-form (key, value) pairs, for additions before a field exists

    def registration(self, source: str) -> Registration | None:
        """The person's registration in `source`, or None when the system does not know them."""
        for r in self.registrations:
            if r.source == source:
                return r
        return None

    def encounter(self, encounter_id: str) -> Encounter | None:
        for e in self.encounters:
            if e.encounter_id == encounter_id:
                return e
        return None
