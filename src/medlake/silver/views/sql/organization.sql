-- view: organization
-- grain: one row per silver Organization.
-- columns:
--   id, source, source_system, source_id
--   npi                the identifier with system http://hl7.org/fhir/sid/us-npi
--   name, active
--   type_code, type_display   first coding of the first type
--   phone              the first phone telecom
--   address_line, city, state, postal_code   the first address; lines joined ", "
--   last_updated
WITH src AS (
    SELECT id, source, source_system, source_id, last_updated, resource::JSON AS r
    FROM silver.organization
)
SELECT
    id,
    source,
    source_system,
    source_id,
    list_filter(fhir_list(r -> '$.identifier'), lambda i: i ->> 'system' = 'http://hl7.org/fhir/sid/us-npi')[1] ->> 'value' AS npi,
    r ->> 'name' AS name,
    TRY_CAST(r ->> 'active' AS BOOLEAN) AS active,
    r ->> '$.type[0].coding[0].code' AS type_code,
    coalesce(r ->> '$.type[0].coding[0].display', r ->> '$.type[0].text') AS type_display,
    list_filter(fhir_list(r -> '$.telecom'), lambda t: t ->> 'system' = 'phone')[1] ->> 'value' AS phone,
    nullif(array_to_string(list_transform(fhir_list(r -> '$.address[0].line'), lambda l: l ->> '$'), ', '), '') AS address_line,
    r ->> '$.address[0].city' AS city,
    r ->> '$.address[0].state' AS state,
    r ->> '$.address[0].postalCode' AS postal_code,
    last_updated
FROM src
