-- view: immunization
-- grain: one row per silver Immunization.
-- code rule: vaccine_code/vaccine_system/vaccine_display is the CVX coding when there is
--   one, else the first coding; source_code* is always the first coding.
-- columns:
--   id, patient_id, encounter_id, source, source_system
--   status
--   vaccine_code, vaccine_system, vaccine_display, source_code, source_code_system
--   occurrence_at      occurrenceDateTime (TIMESTAMPTZ)
--   primary_source     BOOLEAN
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.immunization
),
coded AS (
    SELECT
        *,
        fhir_list(r -> '$.vaccineCode.coding') AS codings,
        fhir_pick(fhir_list(r -> '$.vaccineCode.coding'), ['http://hl7.org/fhir/sid/cvx']) AS pref
    FROM src
)
SELECT
    id,
    patient_id,
    fhir_ref_id(r ->> '$.encounter.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    r ->> 'status' AS status,
    pref ->> 'code' AS vaccine_code,
    pref ->> 'system' AS vaccine_system,
    coalesce(pref ->> 'display', r ->> '$.vaccineCode.text') AS vaccine_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    fhir_instant(r ->> 'occurrenceDateTime') AS occurrence_at,
    TRY_CAST(r ->> 'primarySource' AS BOOLEAN) AS primary_source,
    last_updated
FROM coded
