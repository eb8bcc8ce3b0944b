-- view: observation
-- grain: one row per silver Observation, plus one row per Observation.component.
--   Component rows have id `<observation id>#<n>` (n = 0-based position in `component`),
--   parent_id = the observation id, and take patient, encounter, status, category and
--   effective_at from their parent. A blood-pressure panel (LOINC 85354-9) therefore gives
--   three rows: the panel (no value) and its systolic (8480-6) and diastolic (8462-4) parts.
-- code rule: code/code_system/code_display is the LOINC coding when there is one, else the
--   first coding; source_code* is always the first coding.
-- columns:
--   id, parent_id, patient_id, encounter_id, source, source_system
--   status, category (first coding code of the first category)
--   code, code_system, code_display, source_code, source_code_system
--   effective_at     effectiveDateTime | effectiveInstant | effectivePeriod.start (TIMESTAMPTZ)
--   value_number     valueQuantity.value | valueInteger | valueDecimal (DOUBLE)
--   value_unit       valueQuantity.unit, else valueQuantity.code
--   value_string     valueString
--   value_code, value_code_system, value_display  valueCodeableConcept (first coding)
--   value_boolean    valueBoolean
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.observation
),
parent AS (
    SELECT
        id,
        CAST(NULL AS VARCHAR) AS parent_id,
        patient_id,
        source,
        source_system,
        last_updated,
        r,
        r AS v  -- the element carrying code and value[x]
    FROM src
),
component AS (
    SELECT
        id || '#' || CAST(i - 1 AS VARCHAR) AS id,
        id AS parent_id,
        patient_id,
        source,
        source_system,
        last_updated,
        r,
        fhir_list(r -> '$.component')[i] AS v
    FROM src, unnest(range(1, len(fhir_list(r -> '$.component')) + 1)) AS t(i)
),
rows AS (
    SELECT *, fhir_list(v -> '$.code.coding') AS codings FROM parent
    UNION ALL BY NAME
    SELECT *, fhir_list(v -> '$.code.coding') AS codings FROM component
)
SELECT
    id,
    parent_id,
    patient_id,
    fhir_ref_id(r ->> '$.encounter.reference', 'Encounter') AS encounter_id,
    source,
    source_system,
    r ->> 'status' AS status,
    r ->> '$.category[0].coding[0].code' AS category,
    fhir_pick(codings, ['http://loinc.org']) ->> 'code' AS code,
    fhir_pick(codings, ['http://loinc.org']) ->> 'system' AS code_system,
    coalesce(fhir_pick(codings, ['http://loinc.org']) ->> 'display', v ->> '$.code.text') AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    fhir_instant(coalesce(r ->> 'effectiveDateTime', r ->> 'effectiveInstant', r ->> '$.effectivePeriod.start')) AS effective_at,
    TRY_CAST(coalesce(v -> '$.valueQuantity.value', v -> 'valueInteger', v -> 'valueDecimal') AS DOUBLE) AS value_number,
    coalesce(v ->> '$.valueQuantity.unit', v ->> '$.valueQuantity.code') AS value_unit,
    v ->> 'valueString' AS value_string,
    v ->> '$.valueCodeableConcept.coding[0].code' AS value_code,
    v ->> '$.valueCodeableConcept.coding[0].system' AS value_code_system,
    coalesce(v ->> '$.valueCodeableConcept.coding[0].display', v ->> '$.valueCodeableConcept.text') AS value_display,
    TRY_CAST(v ->> 'valueBoolean' AS BOOLEAN) AS value_boolean,
    last_updated
FROM rows
