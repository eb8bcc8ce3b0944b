-- view: claim_version
-- grain: one row per version of every silver Claim (from `silver.claim_history`): the
--   original 837 claim, each replacement (frequency 7) and a void (8) of the same CLM01.
--   id is `<claim id>@<version>`. The history's valid_from / valid_to are when medlake stored
--   a version, not business dates, so they are left out (created is the business date).
-- columns:
--   id, claim_resource_id, version, is_current (true for the version current in silver: a late arrival is a higher version that never became current)
--   claim_id (CLM01), payer_claim_number (REF*F8), patient_id, source, source_system
--   status, frequency (CLM05-3), claim_type
--   created              DATE (BHT04 of the 837 that sent this version)
--   insurer_id, provider_id
--   total_charge         DECIMAL(18,2) (CLM02)
--   line_count
WITH src AS (
    SELECT
        id, version, patient_id, source, source_system, resource::JSON AS r,
        valid_to IS NULL AS is_current
    FROM silver.claim_history
),
parts AS (
    SELECT *, fhir_list(r -> '$.identifier') AS idents, r ->> '$.provider.reference' AS provider_ref
    FROM src
)
SELECT
    id || '@' || CAST(version AS VARCHAR) AS id,
    id AS claim_resource_id,
    version,
    is_current,
    list_filter(idents, lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/patient-control-number')[1] ->> 'value' AS claim_id,
    list_filter(idents, lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/payer-claim-control-number')[1] ->> 'value' AS payer_claim_number,
    patient_id,
    source,
    source_system,
    r ->> 'status' AS status,
    list_filter(fhir_list(r -> '$.extension'), lambda e: ends_with(e ->> 'url', '/claim-frequency'))[1] ->> 'valueCode' AS frequency,
    r ->> '$.type.coding[0].code' AS claim_type,
    TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
    fhir_ref_id(r ->> '$.insurer.reference', 'Organization') AS insurer_id,
    coalesce(fhir_ref_id(provider_ref, 'Organization'), fhir_ref_id(provider_ref, 'Practitioner')) AS provider_id,
    TRY_CAST(r ->> '$.total.value' AS DECIMAL(18, 2)) AS total_charge,
    len(fhir_list(r -> '$.item')) AS line_count
FROM parts
