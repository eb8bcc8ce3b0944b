-- view: medication_request
-- grain: one row per silver MedicationRequest.
-- code rule: the medication is medicationCodeableConcept, or the `code` of the contained
--   Medication that medicationReference points at (`#id`); a reference to a separate
--   Medication resource is not resolved here (code columns are NULL). code/code_system/
--   code_display is the RxNorm coding when there is one, else the first coding;
--   source_code* is always the first coding.
-- columns:
--   id, patient_id, encounter_id, source, source_system
--   status, intent
--   code, code_system, code_display, source_code, source_code_system, source_code_display
--   code_text            the CodeableConcept text
--   authored_at          authoredOn (TIMESTAMPTZ)
--   requester_id         Practitioner id of requester
--   dosage_text          dosageInstruction[0].text
--   quantity             dispenseRequest.quantity.value (DOUBLE)
--   days_supply          dispenseRequest.expectedSupplyDuration.value (DOUBLE)
--   refills              dispenseRequest.numberOfRepeatsAllowed (INTEGER)
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.medication_request
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
        fhir_pick(fhir_list(concept -> '$.coding'), ['http://www.nlm.nih.gov/research/umls/rxnorm']) AS pref
    FROM med
)
SELECT
    id,
    patient_id,
    fhir_ref_id(r ->> '$.encounter.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    r ->> 'status' AS status,
    r ->> 'intent' AS intent,
    pref ->> 'code' AS code,
    pref ->> 'system' AS code_system,
    pref ->> 'display' AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    codings[1] ->> 'display' AS source_code_display,
    concept ->> 'text' AS code_text,
    fhir_instant(r ->> 'authoredOn') AS authored_at,
    fhir_ref_id(r ->> '$.requester.reference', 'Practitioner') AS requester_id,
    r ->> '$.dosageInstruction[0].text' AS dosage_text,
    TRY_CAST(r -> '$.dispenseRequest.quantity.value' AS DOUBLE) AS quantity,
    TRY_CAST(r -> '$.dispenseRequest.expectedSupplyDuration.value' AS DOUBLE) AS days_supply,
    TRY_CAST(r -> '$.dispenseRequest.numberOfRepeatsAllowed' AS INTEGER) AS refills,
    last_updated
FROM coded
