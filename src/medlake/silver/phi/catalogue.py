"""The PHI catalogue: which FHIR elements and which view / gold columns carry which Safe
Harbor category (see `categories.py`), and how de-identification treats each column.

Two tables of data:

- `ELEMENTS`: FHIR elements of the silver resources that carry PHI, per resource type, with
  an optional `where` filter on the repeating element (an identifier typed `MR` is a medical
  record number, a telecom with system `email` an e-mail address). The security labels
  (`labels.py`) are computed from it. Practitioner, Organization and Location carry no PHI
  of the individual: they describe the workforce and facilities.
- Column rules: every column of every shipped view (`views.<name>`) and gold mart
  (`gold.<mart>`) by name, with overrides per table where a name means something else (the
  `family_name` of a practitioner is not the patient's name). A column no rule names is
  unclassified: de-identification drops it and warns (`deid.py`), and the catalogue test
  fails, so a new column must be classified here before it ships.

`FREE_TEXT` marks columns of free text: not one of the 18 categories, but free text can hold
any of them, so it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from medlake.silver.phi.categories import BY_CODE

FREE_TEXT = "free_text"
"""Pseudo-category of free-text columns (may carry any identifier): always removed."""


class Treatment(StrEnum):
    """What Safe Harbor de-identification does to a column."""

    KEEP = "keep"  # not PHI
    DROP = "drop"  # removed
    PSEUDONYM = "pseudonym"  # replaced by a per-tenant secret-keyed code (a join key)
    YEAR = "year"  # a date or instant generalized to its year (UTC)
    BIRTH_YEAR = "birth_year"  # the year; people aged 90 or more share one year
    AGE = "age"  # ages over 89 become 90
    ZIP3 = "zip3"  # the first 3 digits of a US ZIP code, `000` for the restricted areas


@dataclass(frozen=True)
class ColumnRule:
    """How one column is classified: a category code (None: not PHI) and its treatment."""

    category: str | None
    treatment: Treatment
    note: str = ""


@dataclass(frozen=True)
class Element:
    """A FHIR element that carries a Safe Harbor category.

    `path` is dotted from the resource type (`Patient.address.line`); `where` narrows a
    repeating element to the items where one sub-path has one of the values (any of the
    alternatives matches), as in FHIRPath `identifier.where(type.coding.code = 'MR')`.
    """

    path: str
    category: str
    where: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def resource_type(self) -> str:
        return self.path.split(".", 1)[0]

    def describe(self) -> str:
        if not self.where:
            return self.path
        alts = " or ".join(f"{p} in ({', '.join(sorted(v))})" for p, v in self.where)
        return f"{self.path}.where({alts})"


SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"


def _ids(rtype: str, default: str) -> list[Element]:
    """The identifier elements of `rtype`: typed ones by their v2-0203 type, the rest `default`."""
    base = f"{rtype}.identifier"
    return [
        Element(base, default),
        Element(base, "ssn", (("type.coding.code", frozenset({"SS", "SB"})), ("system", frozenset({SSN_SYSTEM})))),
        Element(base, "mrn", (("type.coding.code", frozenset({"MR"})),)),
        Element(base, "health_plan_id", (("type.coding.code", frozenset({"MB", "MA", "MC", "SN"})),)),
        Element(base, "account", (("type.coding.code", frozenset({"AN", "AC"})),)),
        Element(base, "license", (("type.coding.code", frozenset({"DL", "PPN"})),)),
    ]


def _telecom(rtype: str) -> list[Element]:
    base = f"{rtype}.telecom"
    return [
        Element(base, "phone", (("system", frozenset({"phone", "sms", "pager"})),)),
        Element(base, "fax", (("system", frozenset({"fax"})),)),
        Element(base, "email", (("system", frozenset({"email"})),)),
        Element(base, "url", (("system", frozenset({"url"})),)),
        Element(base, "other_id", (("system", frozenset({"other"})),)),
    ]


def _person(rtype: str) -> list[Element]:
    """Name, address, contact, photo and birth date of a person (Patient, RelatedPerson)."""
    return [
        Element(f"{rtype}.id", "other_id"),
        Element(f"{rtype}.name", "names"),
        Element(f"{rtype}.address.line", "geographic"),
        Element(f"{rtype}.address.city", "geographic"),
        Element(f"{rtype}.address.district", "geographic"),
        Element(f"{rtype}.address.postalCode", "geographic"),
        Element(f"{rtype}.address.text", "geographic"),
        Element(f"{rtype}.birthDate", "dates"),
        Element(f"{rtype}._birthDate", "dates"),
        Element(f"{rtype}.photo", "photo"),
        *_telecom(rtype),
        *_ids(rtype, "other_id"),
    ]


def _dates(rtype: str, *paths: str) -> list[Element]:
    """Date elements, each with its `_element` twin (the original text medlake preserves)."""
    out = []
    for p in paths:
        out.append(Element(f"{rtype}.{p}", "dates"))
        head, _, last = p.rpartition(".")
        out.append(Element(f"{rtype}.{head + '.' if head else ''}_{last}", "dates"))
    return out


def _refs(rtype: str, *paths: str) -> list[Element]:
    """References to the patient (or their encounter): silver ids are UUIDv5 of the source's
    identifier, so they are codes derived from an identifier."""
    return [Element(f"{rtype}.{p}", "other_id") for p in paths]


ELEMENTS: tuple[Element, ...] = (
    *_person("Patient"),
    *_dates("Patient", "deceasedDateTime"),
    Element("Patient.contact", "names"),  # relatives: every identifier of theirs counts too
    Element("Patient.extension", "names", (("url", frozenset({MAIDEN_NAME})),)),
    *_person("RelatedPerson"),
    *_refs("RelatedPerson", "patient"),
    *_ids("Encounter", "account"),
    *_dates("Encounter", "period.start", "period.end"),
    *_refs("Encounter", "subject"),
    Element("Encounter.hospitalization.preAdmissionIdentifier", "account"),
    *_dates("Condition", "onsetDateTime", "abatementDateTime", "recordedDate"),
    *_refs("Condition", "subject", "encounter"),
    Element("Condition.note", FREE_TEXT),
    *_ids("Observation", "other_id"),
    *_dates("Observation", "effectiveDateTime", "issued"),
    *_refs("Observation", "subject", "encounter"),
    Element("Observation.valueString", FREE_TEXT),
    Element("Observation.note", FREE_TEXT),
    *_ids("DiagnosticReport", "other_id"),
    *_dates("DiagnosticReport", "effectiveDateTime", "issued"),
    *_refs("DiagnosticReport", "subject", "basedOn"),
    Element("DiagnosticReport.conclusion", FREE_TEXT),
    Element("DiagnosticReport.presentedForm", FREE_TEXT),
    *_ids("ServiceRequest", "other_id"),
    *_dates("ServiceRequest", "authoredOn", "occurrenceDateTime"),
    *_refs("ServiceRequest", "subject"),
    Element("ServiceRequest.note", FREE_TEXT),
    *_ids("MedicationRequest", "other_id"),
    *_dates("MedicationRequest", "authoredOn", "dispenseRequest.validityPeriod"),
    *_refs("MedicationRequest", "subject", "encounter"),
    Element("MedicationRequest.dosageInstruction.text", FREE_TEXT),
    Element("MedicationRequest.note", FREE_TEXT),
    *_ids("MedicationDispense", "other_id"),
    *_dates("MedicationDispense", "whenPrepared", "whenHandedOver"),
    *_refs("MedicationDispense", "subject"),
    Element("MedicationDispense.extension.valueString", "other_id"),  # the pharmacy's Rx number
    Element("MedicationDispense.note", FREE_TEXT),
    *_dates("Procedure", "performedDateTime", "performedPeriod"),
    *_refs("Procedure", "subject", "encounter"),
    Element("Procedure.note", FREE_TEXT),
    *_dates("Immunization", "occurrenceDateTime", "recorded"),
    *_refs("Immunization", "patient", "encounter"),
    *_dates("AllergyIntolerance", "onsetDateTime", "recordedDate"),
    *_refs("AllergyIntolerance", "patient", "encounter"),
    Element("AllergyIntolerance.note", FREE_TEXT),
    *_ids("Appointment", "other_id"),
    *_dates("Appointment", "start", "end", "participant.period"),
    *_refs("Appointment", "participant.actor"),
    *_ids("ChargeItem", "account"),
    *_dates("ChargeItem", "occurrenceDateTime", "enteredDate"),
    *_refs("ChargeItem", "subject", "context"),
    *_ids("Claim", "account"),  # CLM01: the patient control (account) number
    *_dates("Claim", "billablePeriod", "created", "item.servicedDate", "item.servicedPeriod", "supportingInfo.timingDate"),
    *_refs("Claim", "patient", "insurance.coverage"),
    Element("Claim.accident.date", "dates"),
    Element("Coverage.subscriberId", "health_plan_id"),
    *_ids("Coverage", "health_plan_id"),  # the member id
    *_dates("Coverage", "period"),
    *_refs("Coverage", "beneficiary", "subscriber"),
    Element("Coverage.class.value", "other_id"),  # group number: names the employer's group
    *_ids("ExplanationOfBenefit", "account"),
    Element("ExplanationOfBenefit.claim.identifier", "account"),
    Element("ExplanationOfBenefit.insurance.coverage.identifier", "health_plan_id"),
    *_dates("ExplanationOfBenefit", "billablePeriod", "created", "item.servicedDate", "item.servicedPeriod", "payment.date"),
    *_refs("ExplanationOfBenefit", "patient"),
    Element("ExplanationOfBenefit.disposition", FREE_TEXT),
    *_ids("ClaimResponse", "account"),
    Element("ClaimResponse.request.identifier", "account"),
    *_dates("ClaimResponse", "created"),
    *_refs("ClaimResponse", "patient"),
    Element("ClaimResponse.disposition", FREE_TEXT),
    Element("PaymentReconciliation.detail.identifier", "account"),
    Element("PaymentReconciliation.detail.request.identifier", "account"),
    *_ids("Device", "device"),
    Element("Device.serialNumber", "device"),
    Element("Device.udiCarrier", "device"),
    Element("Device.lotNumber", "device"),
    *_dates("Device", "extension.valueDate"),  # registered-on: when the person got the device
    *_refs("Device", "patient"),
)
"""Every PHI-carrying element of the resource types silver holds (and the FHIR feeds may
pass through): see the module docstring."""

NOT_PHI_RESOURCES: tuple[str, ...] = ("Practitioner", "Organization", "Location")
"""Resource types about the workforce and facilities: no element identifies the individual."""


def _rules(treatment: Treatment, category: str | None, names: str, note: str = "") -> dict[str, ColumnRule]:
    rule = ColumnRule(category, treatment, note)
    return dict.fromkeys(names.split(), rule)


_MEASURES = "bp_systolic bp_diastolic heart_rate bmi weight hba1c ldl egfr glucose"  # patient_360

def _merge(*groups: dict[str, ColumnRule]) -> dict[str, ColumnRule]:
    """One name → rule table; a name in two groups is an editing mistake and fails loudly."""
    out: dict[str, ColumnRule] = {}
    for g in groups:
        twice = out.keys() & g.keys()
        if twice:  # pragma: no cover - guards edits to this file
            raise AssertionError(f"columns classified twice in the PHI catalogue: {sorted(twice)}")
        out.update(g)
    return out


COLUMNS: dict[str, ColumnRule] = _merge(
    _rules(Treatment.DROP, "names", "family_name given_name"),
    _rules(Treatment.DROP, "names", "group_name", "the coverage group: usually the employer's name"),
    _rules(Treatment.DROP, "geographic", "address_line city"),
    _rules(Treatment.ZIP3, "geographic", "postal_code"),
    _rules(Treatment.BIRTH_YEAR, "dates", "birth_date"),
    _rules(Treatment.AGE, "dates", "age_years age_at_period_end"),
    _rules(Treatment.DROP, "dates", "admit_date discharge_date", "the days of admit_at / discharge_at, whose years are kept"),
    _rules(
        Treatment.YEAR,
        "dates",
        "deceased_at last_updated onset_at abatement_at recorded_at period_start period_end "
        "effective_at authored_at prepared_at handed_over_at performed_at performed_end_at "
        "occurrence_at event_at created billable_start billable_end serviced_date serviced_end "
        "payment_date submitted_date acknowledged_date rejected_date adjudicated_date paid_date "
        "denied_date resubmitted_date reversed_date voided_date last_activity_date "
        "first_denied_date last_encounter_at as_of_at as_of_date issued_at onset_date evidence_date "
        "last_evidence_date last_visit_date admit_at discharge_at "
        + " ".join(f"{m}_at" for m in _MEASURES.split()),
    ),
    _rules(Treatment.DROP, "phone", "phone"),
    _rules(Treatment.DROP, "email", "email"),
    _rules(Treatment.DROP, "mrn", "mrn"),
    _rules(Treatment.DROP, "health_plan_id", "subscriber_id member_id"),
    _rules(Treatment.DROP, "account", "payer_claim_number detail_identifier"),
    _rules(Treatment.PSEUDONYM, "account", "claim_id", "patient control number; a join key"),
    _rules(Treatment.DROP, "other_id", "source_id group_value", "the source's own identifier"),
    _rules(
        Treatment.PSEUDONYM,
        "other_id",
        "id patient_id person_id encounter_id parent_id parent_observation_id observation_id "
        "condition_id procedure_id immunization_id medication_event_id prescription_id "
        "last_encounter_id claim_resource_id eob_id eob_version_id claim_response_id coverage_id "
        "patient_ids based_on_id stay_id readmission_stay_id encounter_ids",
        "silver ids are UUIDv5 of the source's identifier: a code derived from an identifier",
    ),
    _rules(Treatment.DROP, "fax", "fax"),
    _rules(Treatment.DROP, "ssn", "ssn"),
    _rules(Treatment.DROP, "license", "license_number"),
    _rules(Treatment.DROP, "vehicle", "vehicle_id license_plate"),
    _rules(Treatment.DROP, "device", "device_serial serial_number udi"),
    _rules(Treatment.DROP, "url", "url"),
    _rules(Treatment.DROP, "ip", "ip_address"),
    _rules(Treatment.DROP, "biometric", "biometric"),
    _rules(Treatment.DROP, "photo", "photo"),
    _rules(Treatment.DROP, FREE_TEXT, "dosage_text code_text value_string disposition conclusion"),
    _rules(
        Treatment.KEEP,
        None,
        "source source_system version status frequency claim_type use provider_type provider_id performer_id result_count "
        "provider_npi rendering_provider_id referring_provider_id attending_provider_id insurer_id "
        "payer_name payer_identifier facility_id total_charge principal_diagnosis_code "
        "principal_diagnosis_system diagnosis_count line_count sequence product_code product_system "
        "modifiers revenue_code units charge place_of_service diagnosis_pointers is_current outcome "
        "status_category status_code code code_system code_display source_code source_code_system "
        "source_code_display clinical_status verification_status category type criticality "
        "reaction_code reaction_display reaction_severity type_code type_system type_display "
        "relationship payor_id payor_name plan_value plan_name class_code class_system reason_code "
        "reason_system reason_display discharge_disposition service_provider_id practitioner_id "
        "eob_type level line_sequence group_code amount quantity claim_status_code paid "
        "patient_responsibility allowed payment_type payment_identifier vaccine_code vaccine_system "
        "vaccine_display primary_source ndc quantity_unit days_supply intent requester_id refills "
        "value_number value_unit value_code value_code_system value_display value_boolean "
        "gender race race_code ethnicity ethnicity_code deceased row_type detail_index payer_id "
        "payee_id detail_type detail_type_system trace_number payment_id state",
        "not one of the 18 identifiers (state is the one geographic unit Safe Harbor keeps)",
    ),
    _rules(
        Treatment.KEEP,
        None,
        "is_ed_visit is_inpatient length_of_stay_days is_active chronic_condition_groups event_type "
        "measure active_problems active_problem_count has_diabetes has_hypertension has_chf "
        "has_copd has_ckd has_depression has_asthma active_medications active_medication_count "
        "last_encounter_class last_encounter_source last_encounter_source_system encounters_total "
        "encounters_12m ed_visits_12m inpatient_stays_12m source_systems source_system_count "
        + " ".join(f"{m}_value {m}_unit {m}_source_system" for m in _MEASURES.split()),
        "derived flags, counts and values (durations and counts are not dates)",
    ),
    _rules(
        Treatment.KEEP,
        None,
        "on_file billing_provider_id billing_provider_npi billing_provider_name "
        "rendering_provider_npi days_outstanding aging_bucket billed adjudicated_charge balance "
        "first_outcome current_state denial_count claim_version_count eob_version_count "
        "status_count scope ar_balance claims_outstanding charges_90d avg_daily_charges days_in_ar "
        "procedure_code adjudicated_claims denied_claims denied_claims_co denied_claims_pr "
        "denied_claims_oa denied_claims_pi denial_rate denial_rate_co denial_rate_pr "
        "denial_rate_oa denial_rate_pi denied_amount times_denied procedure_codes overturned first_pass_claims "
        "first_pass_rate denied_first_claims resubmitted_claims claims contractual_adjustments "
        "net_collection_rate lines share_of_claims share_of_charges share_of_payments eob_count "
        "other_adjustments adjustments outstanding difference balanced unbalanced_claims "
        "payments_posted voided_claims voided_billed unmatched_claims unmatched_paid payments "
        "claim_payments plb_adjustments deposits deposits_balanced",
        "revenue-cycle amounts, counts and states",
    ),
    _rules(Treatment.KEEP, None, "month", "the month of an aggregate row (payer, provider), not of a person"),
    _rules(
        Treatment.KEEP,
        None,
        "has_golden_record patient_count record_count sources name_source birth_date_source "
        "address_source assurance",
        "enterprise-person bookkeeping: counts, flags and source names",
    ),
    _rules(
        Treatment.KEEP,
        None,
        "cohort risk_stratum evidence_code evidence_source evidence_system evidence_type evidence_count "
        "persons share_of_cohort attributed_payer attributed_payer_id attributed_provider organization_id "
        "measure_id measure_name measure_version in_initial_population in_denominator in_numerator excluded "
        "exclusion_reason evidence_value last_evidence_value gap_closure initial_population denominator "
        "denominator_exclusions numerator performance_rate inverse condition_cohort index_stays "
        "planned_readmissions readmission_rate readmissions_30d facility_name principal_dx_code "
        "readmission_planned readmission_planned_reason readmitted_30d unplanned_readmission_30d "
        "has_complete_followup los_days days_to_readmission encounter_count avg_length_of_stay_days ed_visits "
        "ed_visits_per_1000 inpatient_admissions inpatient_admissions_per_1000 inpatient_discharges period_type "
        "diagnosis_code diagnosis_display diagnosis_rank event_count person_count setting year priority_code "
        "location_id location_name",
        "measure, cohort, readmission and utilization facts: codes, flags, counts, rates and durations "
        "(their dates and ids are generalized by the rules above)",
    ),
)
"""Column rules by column name, for every table."""

_WORKFORCE = _rules(
    Treatment.KEEP,
    None,
    "id source_id family_name given_name phone email address_line city postal_code",
    "the workforce or a facility, not the individual: not Safe Harbor identifiers",
)

TABLE_COLUMNS: dict[str, dict[str, ColumnRule]] = {
    "views.practitioner": {**_WORKFORCE, **_rules(Treatment.KEEP, None, "npi prefix active")},
    "views.organization": {**_WORKFORCE, **_rules(Treatment.KEEP, None, "npi name active")},
    "gold.kpi_executive": _rules(
        Treatment.KEEP, None, "metric dimension value unit period as_of",
        "aggregates over the whole tenant; `as_of` is the lake's data date, not a person's",
    ),
    "views.location": {**_WORKFORCE, **_rules(
        Treatment.KEEP, None, "name managing_organization_id part_of_id latitude longitude",
        "a facility's place, not a patient's",
    )},
}
"""Overrides by table (`<schema>.<name>`) where a column name means something else."""


def classify(table: str, column: str) -> ColumnRule | None:
    """The rule of `column` of `table` (`views.patient`, `gold.patient_360`), or None when
    the column is not classified."""
    override = TABLE_COLUMNS.get(table)
    if override is not None and column in override:
        return override[column]
    return COLUMNS.get(column)


def elements_of(resource_type: str) -> list[Element]:
    """The catalogued elements of one resource type (empty for types without PHI)."""
    return [e for e in ELEMENTS if e.resource_type == resource_type]


def _check() -> None:
    """Every category code used above exists (run at import: a typo fails loudly)."""
    codes = set(BY_CODE) | {FREE_TEXT}
    used = {e.category for e in ELEMENTS} | {r.category for r in COLUMNS.values() if r.category}
    unknown = used - codes
    if unknown:  # pragma: no cover - guards edits to this file
        raise AssertionError(f"unknown category codes in the PHI catalogue: {sorted(unknown)}")


_check()
