-- view: condition
-- grain: one row per silver Condition.
-- code rule: code/code_system/code_display is the preferred coding of Condition.code —
--   ICD-10-CM, else SNOMED CT, else ICD-9-CM, else the first coding; source_code* is always
--   the first coding (what the source sent), so both sit side by side.
-- columns:
--   id, patient_id, encounter_id, source, source_system
--   code, code_system, code_display, source_code, source_code_system, source_code_display
--   code_text            Condition.code.text
--   clinical_status, verification_status   first coding code of each
--   category             first coding code of the first category
--   onset_at             onsetDateTime, else onsetPeriod.start (TIMESTAMPTZ)
--   abatement_at         abatementDateTime, else abatementPeriod.start
--   recorded_at          recordedDate
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.condition
),
coded AS (
    SELECT
        *,
        fhir_list(r -> '$.code.coding') AS codings,
        fhir_pick(fhir_list(r -> '$.code.coding'), [
            'http://hl7.org/fhir/sid/icd-10-cm',
            'http://snomed.info/sct',
            'http://hl7.org/fhir/sid/icd-9-cm'
        ]) AS pref
    FROM src
)
SELECT
    id,
    patient_id,
    fhir_ref_id(r ->> '$.encounter.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    pref ->> 'code' AS code,
    pref ->> 'system' AS code_system,
    pref ->> 'display' AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    codings[1] ->> 'display' AS source_code_display,
    r ->> '$.code.text' AS code_text,
    r ->> '$.clinicalStatus.coding[0].code' AS clinical_status,
    r ->> '$.verificationStatus.coding[0].code' AS verification_status,
    r ->> '$.category[0].coding[0].code' AS category,
    fhir_instant(coalesce(r ->> 'onsetDateTime', r ->> '$.onsetPeriod.start')) AS onset_at,
    fhir_instant(coalesce(r ->> 'abatementDateTime', r ->> '$.abatementPeriod.start')) AS abatement_at,
    fhir_instant(r ->> 'recordedDate') AS recorded_at,
    last_updated
FROM coded
