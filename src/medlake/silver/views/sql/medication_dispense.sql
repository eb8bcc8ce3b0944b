-- view: medication_dispense
-- grain: one row per silver MedicationDispense.
-- code rule: the medication is medicationCodeableConcept (or the contained Medication's
--   code). code/code_system/code_display is the RxNorm coding when there is one, else the
--   NDC coding, else the first coding; `ndc` is the NDC coding's code whatever was preferred;
--   source_code* is always the first coding.
-- columns:
--   id, patient_id, encounter_id (context), source, source_system
--   status
--   code, code_system, code_display, ndc, source_code, source_code_system, source_code_display
--   quantity, quantity_unit      quantity.value (DOUBLE), quantity.unit else quantity.code
--   days_supply                  daysSupply.value (DOUBLE)
--   prepared_at, handed_over_at  whenPrepared, whenHandedOver (TIMESTAMPTZ)
--   prescription_id              MedicationRequest id of authorizingPrescription[0]
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.medication_dispense
),
med AS (
    SELECT
        *,
        coalesce(
            r -> '$.medicationCodeableConcept',
            list_filter(
                fhir_list(r -> '$.contained'),
                lambda m: '#' || (m ->> 'id') = r ->> '$.medicationReference.reference'
            )[1] -> '$.code'
        ) AS concept
    FROM src
),
coded AS (
    SELECT
        *,
        fhir_list(concept -> '$.coding') AS codings,
        fhir_pick(fhir_list(concept -> '$.coding'), [
            'http://www.nlm.nih.gov/research/umls/rxnorm',
            'http://hl7.org/fhir/sid/ndc'
        ]) AS pref
    FROM med
)
SELECT
    id,
    patient_id,
    fhir_ref_id(r ->> '$.context.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    r ->> 'status' AS status,
    pref ->> 'code' AS code,
    pref ->> 'system' AS code_system,
    pref ->> 'display' AS code_display,
    list_filter(codings, lambda c: c ->> 'system' = 'http://hl7.org/fhir/sid/ndc')[1] ->> 'code' AS ndc,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    codings[1] ->> 'display' AS source_code_display,
    TRY_CAST(r -> '$.quantity.value' AS DOUBLE) AS quantity,
    coalesce(r ->> '$.quantity.unit', r ->> '$.quantity.code') AS quantity_unit,
    TRY_CAST(r -> '$.daysSupply.value' AS DOUBLE) AS days_supply,
    fhir_instant(r ->> 'whenPrepared') AS prepared_at,
    fhir_instant(r ->> 'whenHandedOver') AS handed_over_at,
    fhir_ref_id(r ->> '$.authorizingPrescription[0].reference', 'MedicationRequest') AS prescription_id,
    last_updated
FROM coded
