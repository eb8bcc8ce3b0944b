-- view: practitioner
-- grain: one row per silver Practitioner.
-- columns:
--   id, source, source_system, source_id
--   npi                the identifier with system http://hl7.org/fhir/sid/us-npi
--   family_name, given_name, prefix   the first name; given names joined with one space
--   gender, active
--   phone, email       the first telecom of that system
--   address_line, city, state, postal_code   the first address; lines joined ", "
--   last_updated
WITH src AS (
    SELECT id, source, source_system, source_id, last_updated, resource::JSON AS r
    FROM silver.practitioner
),
parts AS (
    SELECT *, r -> '$.name[0]' AS nm, r -> '$.address[0]' AS addr, fhir_list(r -> '$.telecom') AS telecoms
    FROM src
)
SELECT
    id,
    source,
    source_system,
    source_id,
    list_filter(fhir_list(r -> '$.identifier'), lambda i: i ->> 'system' = 'http://hl7.org/fhir/sid/us-npi')[1] ->> 'value' AS npi,
    nm ->> 'family' AS family_name,
    nullif(array_to_string(list_transform(fhir_list(nm -> '$.given'), lambda g: g ->> '$'), ' '), '') AS given_name,
    nm ->> '$.prefix[0]' AS prefix,
    r ->> 'gender' AS gender,
    TRY_CAST(r ->> 'active' AS BOOLEAN) AS active,
    list_filter(telecoms, lambda t: t ->> 'system' = 'phone')[1] ->> 'value' AS phone,
    list_filter(telecoms, lambda t: t ->> 'system' = 'email')[1] ->> 'value' AS email,
    nullif(array_to_string(list_transform(fhir_list(addr -> '$.line'), lambda l: l ->> '$'), ', '), '') AS address_line,
    addr ->> 'city' AS city,
    addr ->> 'state' AS state,
    addr ->> 'postalCode' AS postal_code,
    last_updated
FROM parts
