-- view: coverage
-- grain: one row per silver Coverage.
-- columns:
--   id, patient_id (the beneficiary), source, source_system
--   status
--   type_code, type_system, type_display   first coding of Coverage.type
--   subscriber_id
--   member_id          first identifier typed MB (v2-0203), else the first identifier
--   relationship       first coding code of relationship
--   period_start, period_end                TIMESTAMPTZ
--   payor_id           Organization id of payor[0]; payor_name its display
--   group_value, group_name, plan_value, plan_name   the class entries of type group / plan
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.coverage
),
parts AS (
    SELECT
        *,
        list_filter(fhir_list(r -> '$.class'), lambda c: c ->> '$.type.coding[0].code' = 'group')[1] AS grp,
        list_filter(fhir_list(r -> '$.class'), lambda c: c ->> '$.type.coding[0].code' = 'plan')[1] AS pln,
        fhir_list(r -> '$.identifier') AS idents
    FROM src
)
SELECT
    id,
    patient_id,
    source,
    source_system,
    r ->> 'status' AS status,
    r ->> '$.type.coding[0].code' AS type_code,
    r ->> '$.type.coding[0].system' AS type_system,
    coalesce(r ->> '$.type.coding[0].display', r ->> '$.type.text') AS type_display,
    r ->> 'subscriberId' AS subscriber_id,
    coalesce(
        list_filter(idents, lambda i: list_contains(
            list_transform(fhir_list(i -> '$.type.coding'), lambda c: c ->> 'code'), 'MB'))[1] ->> 'value',
        idents[1] ->> 'value'
    ) AS member_id,
    r ->> '$.relationship.coding[0].code' AS relationship,
    fhir_instant(r ->> '$.period.start') AS period_start,
    fhir_instant(r ->> '$.period.end') AS period_end,
    fhir_ref_id(r ->> '$.payor[0].reference', 'Organization') AS payor_id,
    r ->> '$.payor[0].display' AS payor_name,
    grp ->> 'value' AS group_value,
    grp ->> 'name' AS group_name,
    pln ->> 'value' AS plan_value,
    pln ->> 'name' AS plan_name,
    last_updated
FROM parts
