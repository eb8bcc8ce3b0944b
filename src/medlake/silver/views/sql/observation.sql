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
-- performance: each JSON document is parsed a handful of times (multi-path extraction),
--   not once per column.
WITH src AS (
    SELECT
        id, patient_id, source, source_system, last_updated,
        resource::JSON AS r,
        json_extract_string(resource, [
            '$.status', '$.category[0].coding[0].code', '$.encounter.reference',
            '$.effectiveDateTime', '$.effectiveInstant', '$.effectivePeriod.start'
        ]) AS p
    FROM silver.observation
),
elements AS (
    SELECT id, CAST(NULL AS VARCHAR) AS parent_id, patient_id, source, source_system, last_updated,
           p, r AS v  -- the element carrying code and value[x]
    FROM src
    UNION ALL BY NAME
    SELECT id || '#' || CAST(i - 1 AS VARCHAR) AS id, id AS parent_id, patient_id, source, source_system,
           last_updated, p, comps[i] AS v
    FROM (SELECT *, fhir_list(r -> '$.component') AS comps FROM src WHERE (r -> '$.component') IS NOT NULL),
         unnest(range(1, len(comps) + 1)) AS t(i)
),
rows AS (
    SELECT
        *,
        fhir_list(v -> '$.code.coding') AS codings,
        json_extract_string(v, [
            '$.code.text', '$.valueQuantity.value', '$.valueInteger', '$.valueDecimal',
            '$.valueQuantity.unit', '$.valueQuantity.code', '$.valueString',
            '$.valueCodeableConcept.coding[0].code', '$.valueCodeableConcept.coding[0].system',
            '$.valueCodeableConcept.coding[0].display', '$.valueCodeableConcept.text', '$.valueBoolean'
        ]) AS e
    FROM elements
),
picked AS (
    SELECT *, fhir_pick(codings, ['http://loinc.org']) AS pick FROM rows
)
SELECT
    id,
    parent_id,
    patient_id,
    fhir_ref_id(p[3], 'Encounter') AS encounter_id,
    source,
    source_system,
    p[1] AS status,
    p[2] AS category,
    pick ->> 'code' AS code,
    pick ->> 'system' AS code_system,
    coalesce(pick ->> 'display', e[1]) AS code_display,
    codings[1] ->> 'code' AS source_code,
    codings[1] ->> 'system' AS source_code_system,
    fhir_instant(coalesce(p[4], p[5], p[6])) AS effective_at,
    TRY_CAST(coalesce(e[2], e[3], e[4]) AS DOUBLE) AS value_number,
    coalesce(e[5], e[6]) AS value_unit,
    e[7] AS value_string,
    e[8] AS value_code,
    e[9] AS value_code_system,
    coalesce(e[10], e[11]) AS value_display,
    TRY_CAST(e[12] AS BOOLEAN) AS value_boolean,
    last_updated
FROM picked
