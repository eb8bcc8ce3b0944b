-- view: allergy_intolerance
-- grain: one row per silver AllergyIntolerance.
-- code rule: code/code_system/code_display is the RxNorm coding, else SNOMED CT, else the
--   first coding; source_code* is always the first coding.
-- columns:
--   id, patient_id, encounter_id, source, source_system
--   clinical_status, verification_status   first coding code of each
--   type, category (first), criticality
--   code, code_system, code_display, source_code, source_code_system
--   code_text
--   reaction_code, reaction_display        first manifestation of the first reaction
--   reaction_severity                      severity of the first reaction
--   onset_at, recorded_at                  onsetDateTime, recordedDate (TIMESTAMPTZ)
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.allergy_intolerance
),
coded AS (
    SELECT
        *,
        fhir_list(r -> '$.code.coding') AS codings,
        fhir_pick(fhir_list(r -> '$.code.coding'), [
            'http://www.nlm.nih.gov/research/umls/rxnorm',
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
    r ->> '$.clinicalStatus.coding[0].code' AS clinical_status,
    r ->> '$.verificationStatus.coding[0].code' AS verification_status,
    r ->> 'type' AS type,
    r ->> '$.category[0]' AS category,
    r ->> 'criticality' AS criticality,
    pref ->> 'code' AS code,
    pref ->> 'system' AS code_system,
    pref ->> 'display' AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    r ->> '$.code.text' AS code_text,
    r ->> '$.reaction[0].manifestation[0].coding[0].code' AS reaction_code,
    coalesce(
        r ->> '$.reaction[0].manifestation[0].coding[0].display',
        r ->> '$.reaction[0].manifestation[0].text'
    ) AS reaction_display,
    r ->> '$.reaction[0].severity' AS reaction_severity,
    fhir_instant(r ->> 'onsetDateTime') AS onset_at,
    fhir_instant(r ->> 'recordedDate') AS recorded_at,
    last_updated
FROM coded
