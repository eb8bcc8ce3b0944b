-- view: person
-- grain: one row per enterprise person: each active golden `Person` the identity stage wrote
--        (src/medlake/silver/identity/survivorship.py documents the survivorship rules).
-- columns:
--   person_id                               the enterprise person id (= Person.id)
--   family_name, given_name                 the surviving name; given names joined with one space
--   birth_date (DATE), gender
--   address_line, city, state, postal_code  the surviving address; lines joined ", "
--   phone, email                            the surviving telecoms
--   name_source, birth_date_source, address_source
--                                           the source each of those values came from
--   record_count   how many source Patients the person links
--   sources        sorted distinct source names of those Patients
--   patient_ids    sorted silver Patient ids of the person
--   last_updated
WITH src AS (
    SELECT id, last_updated, resource::JSON AS r
    FROM silver.person
    WHERE coalesce(TRY_CAST(resource::JSON ->> 'active' AS BOOLEAN), true)
),
links AS (
    SELECT id AS person_id, unnest(fhir_list(r -> '$.link')) AS lnk FROM src
),
targets AS (
    SELECT person_id, fhir_ref_id(lnk -> 'target' ->> 'reference', 'Patient') AS patient_id FROM links
),
members AS (
    SELECT
        t.person_id,
        count(*) AS record_count,
        list_sort(list_distinct(list(p.source) FILTER (WHERE p.source IS NOT NULL))) AS sources,
        list_sort(list(t.patient_id)) AS patient_ids
    FROM targets AS t
    LEFT JOIN silver.patient AS p ON p.id = t.patient_id
    WHERE t.patient_id IS NOT NULL
    GROUP BY t.person_id
),
parts AS (
    SELECT
        *,
        fhir_list(r -> '$.name')[1] AS nm,
        fhir_list(r -> '$.address')[1] AS addr,
        fhir_list(r -> '$.telecom') AS telecoms
    FROM src
)
SELECT
    s.id AS person_id,
    nm ->> 'family' AS family_name,
    nullif(array_to_string(list_transform(fhir_list(nm -> '$.given'), lambda g: g ->> '$'), ' '), '') AS given_name,
    TRY_CAST(r ->> 'birthDate' AS DATE) AS birth_date,
    r ->> 'gender' AS gender,
    nullif(array_to_string(list_transform(fhir_list(addr -> '$.line'), lambda l: l ->> '$'), ', '), '') AS address_line,
    addr ->> 'city' AS city,
    addr ->> 'state' AS state,
    addr ->> 'postalCode' AS postal_code,
    list_filter(telecoms, lambda t: t ->> 'system' = 'phone')[1] ->> 'value' AS phone,
    list_filter(telecoms, lambda t: t ->> 'system' = 'email')[1] ->> 'value' AS email,
    nm -> '$.extension[0].extension[0]' ->> 'valueString' AS name_source,
    r -> '$._birthDate.extension[0].extension[0]' ->> 'valueString' AS birth_date_source,
    addr -> '$.extension[0].extension[0]' ->> 'valueString' AS address_source,
    coalesce(m.record_count, 0) AS record_count,
    coalesce(m.sources, []) AS sources,
    coalesce(m.patient_ids, []) AS patient_ids,
    s.last_updated
FROM parts AS s
LEFT JOIN members AS m ON m.person_id = s.id
