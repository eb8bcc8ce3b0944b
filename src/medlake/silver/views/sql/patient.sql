-- view: patient
-- grain: one row per silver Patient (the current version).
-- columns:
--   id, source, source_system, source_id   silver id and where the record came from
--   mrn            value of the first identifier typed MR (v2-0203); else the first identifier
--                  whose system is the source system's own URI
--   family_name, given_name                the `official` name, else the first name; given
--                  names joined with one space
--   birth_date     DATE; NULL when the source gives only a year or a month
--   deceased, deceased_at                  deceasedBoolean / deceasedDateTime (TIMESTAMPTZ)
--   gender
--   address_line, city, state, postal_code the `home` address, else the first; lines joined ", "
--   phone, email   the first telecom of that system
--   race, race_code, ethnicity, ethnicity_code
--                  US Core race/ethnicity extensions: the `text` sub-extension, else the first
--                  ombCategory display; the code is the first ombCategory code
--   last_updated
WITH src AS (
    SELECT id, source, source_system, source_id, last_updated, resource::JSON AS r
    FROM silver.patient
),
parts AS (
    SELECT
        *,
        coalesce(
            list_filter(fhir_list(r -> '$.name'), lambda n: n ->> 'use' = 'official')[1],
            fhir_list(r -> '$.name')[1]
        ) AS nm,
        coalesce(
            list_filter(fhir_list(r -> '$.address'), lambda a: a ->> 'use' = 'home')[1],
            fhir_list(r -> '$.address')[1]
        ) AS addr,
        fhir_list(r -> '$.identifier') AS idents,
        fhir_list(r -> '$.telecom') AS telecoms,
        list_filter(fhir_list(r -> '$.extension'), lambda e: e ->> 'url' = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race')[1] AS race_ext,
        list_filter(fhir_list(r -> '$.extension'), lambda e: e ->> 'url' = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity')[1] AS eth_ext
    FROM src
)
SELECT
    id,
    source,
    source_system,
    source_id,
    coalesce(
        list_filter(idents, lambda i: list_contains(
            list_transform(fhir_list(i -> '$.type.coding'), lambda c: c ->> 'code'), 'MR'))[1] ->> 'value',
        list_filter(idents, lambda i: i ->> 'system' = source_system)[1] ->> 'value'
    ) AS mrn,
    nm ->> 'family' AS family_name,
    nullif(array_to_string(list_transform(fhir_list(nm -> '$.given'), lambda g: g ->> '$'), ' '), '') AS given_name,
    TRY_CAST(r ->> 'birthDate' AS DATE) AS birth_date,
    coalesce(TRY_CAST(r ->> 'deceasedBoolean' AS BOOLEAN), r ->> 'deceasedDateTime' IS NOT NULL) AS deceased,
    fhir_instant(r ->> 'deceasedDateTime') AS deceased_at,
    r ->> 'gender' AS gender,
    nullif(array_to_string(list_transform(fhir_list(addr -> '$.line'), lambda l: l ->> '$'), ', '), '') AS address_line,
    addr ->> 'city' AS city,
    addr ->> 'state' AS state,
    addr ->> 'postalCode' AS postal_code,
    list_filter(telecoms, lambda t: t ->> 'system' = 'phone')[1] ->> 'value' AS phone,
    list_filter(telecoms, lambda t: t ->> 'system' = 'email')[1] ->> 'value' AS email,
    coalesce(
        list_filter(fhir_list(race_ext -> '$.extension'), lambda e: e ->> 'url' = 'text')[1] ->> 'valueString',
        list_filter(fhir_list(race_ext -> '$.extension'), lambda e: e ->> 'url' = 'ombCategory')[1] ->> '$.valueCoding.display'
    ) AS race,
    list_filter(fhir_list(race_ext -> '$.extension'), lambda e: e ->> 'url' = 'ombCategory')[1] ->> '$.valueCoding.code' AS race_code,
    coalesce(
        list_filter(fhir_list(eth_ext -> '$.extension'), lambda e: e ->> 'url' = 'text')[1] ->> 'valueString',
        list_filter(fhir_list(eth_ext -> '$.extension'), lambda e: e ->> 'url' = 'ombCategory')[1] ->> '$.valueCoding.display'
    ) AS ethnicity,
    list_filter(fhir_list(eth_ext -> '$.extension'), lambda e: e ->> 'url' = 'ombCategory')[1] ->> '$.valueCoding.code' AS ethnicity_code,
    last_updated
FROM parts
