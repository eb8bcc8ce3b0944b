-- view: claim_response_version
-- grain: one row per version of every silver ClaimResponse (from
--   `silver.claim_response_history`). A 277 claim status is keyed on the claim id (CLM01), so
--   each status the payer sent (acknowledged, pended, finalized …) is one version. id is
--   `<claim response id>@<version>`. valid_from / valid_to (when medlake stored a version) are
--   left out: created (STC02) is the business date.
-- columns:
--   id, claim_response_id, version, is_current (true for the version current in silver: a late arrival is a higher version that never became current)
--   claim_id             identifier with system .../patient-control-number, else
--                        request.identifier.value
--   patient_id, source, source_system
--   status, outcome, disposition
--   status_category      extension claim-status-category (STC01-1: A1 acknowledged, A2
--                        accepted, A3 rejected, F1 finalized paid, F2 denied …)
--   status_code          extension claim-status-code (STC01-2)
--   created              DATE (STC02)
--   insurer_id           Organization id of insurer
WITH src AS (
    SELECT
        id, version, patient_id, source, source_system, resource::JSON AS r,
        valid_to IS NULL AS is_current
    FROM silver.claim_response_history
),
parts AS (
    SELECT *, fhir_list(r -> '$.extension') AS ext
    FROM src
)
SELECT
    id || '@' || CAST(version AS VARCHAR) AS id,
    id AS claim_response_id,
    version,
    is_current,
    coalesce(
        list_filter(fhir_list(r -> '$.identifier'),
            lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/patient-control-number')[1] ->> 'value',
        r ->> '$.request.identifier.value'
    ) AS claim_id,
    patient_id,
    source,
    source_system,
    r ->> 'status' AS status,
    r ->> 'outcome' AS outcome,
    r ->> 'disposition' AS disposition,
    list_filter(ext, lambda e: ends_with(e ->> 'url', '/claim-status-category'))[1] ->> 'valueCode' AS status_category,
    list_filter(ext, lambda e: ends_with(e ->> 'url', '/claim-status-code'))[1] ->> 'valueCode' AS status_code,
    TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
    fhir_ref_id(r ->> '$.insurer.reference', 'Organization') AS insurer_id
FROM parts
