-- view: procedure
-- grain: one row per silver Procedure.
-- code rule: code/code_system/code_display is the preferred coding of Procedure.code — CPT,
--   else HCPCS, else ICD-10-PCS, else SNOMED CT, else the first coding; source_code* is
--   always the first coding.
-- columns:
--   id, patient_id, encounter_id, source, source_system
--   status
--   code, code_system, code_display, source_code, source_code_system, source_code_display
--   performed_at       performedDateTime, else performedPeriod.start (TIMESTAMPTZ)
--   performed_end_at   performedPeriod.end
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.procedure
),
coded AS (
    SELECT
        *,
        fhir_list(r -> '$.code.coding') AS codings,
        fhir_pick(fhir_list(r -> '$.code.coding'), [
            'http://www.ama-assn.org/go/cpt',
            'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
            'http://www.cms.gov/Medicare/Coding/ICD10',
            'http://snomed.info/sct'
        ]) AS pref
    FROM src
)
SELECT
    id,
    patient_id,
    fhir_ref_id(r ->> '$.encounter.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    r ->> 'status' AS status,
    pref ->> 'code' AS code,
    pref ->> 'system' AS code_system,
    coalesce(pref ->> 'display', r ->> '$.code.text') AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    codings[1] ->> 'display' AS source_code_display,
    fhir_instant(coalesce(r ->> 'performedDateTime', r ->> '$.performedPeriod.start')) AS performed_at,
    fhir_instant(r ->> '$.performedPeriod.end') AS performed_end_at,
    last_updated
FROM coded
