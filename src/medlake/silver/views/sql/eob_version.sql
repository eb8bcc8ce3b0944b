-- view: eob_version
-- grain: one row per version of every silver ExplanationOfBenefit (from
--   `silver.explanation_of_benefit_history`): each 835 CLP medlake stored for the same payer +
--   CLP01, in the order it arrived (an original, a reversal with CLP02 22, a correction …).
--   id is `<eob id>@<version>`. valid_from / valid_to (when medlake stored the version) are
--   left out: payment_date and created are the business dates.
-- columns:
--   id, eob_id, version, is_current (true for the version current in silver: a late arrival is a higher version that never became current)
--   claim_id (CLP01), payer_claim_number (CLP07), patient_id, source, source_system
--   status, claim_status_code (CLP02), outcome
--   insurer_id, provider_id
--   created, payment_date   DATE
--   charge, paid, patient_responsibility   DECIMAL(18,2): totals submitted (CLP03), benefit
--                        (CLP04), patient-responsibility (CLP05), as sent (negative on a reversal)
WITH src AS (
    SELECT
        id, version, patient_id, source, source_system, resource::JSON AS r,
        valid_to IS NULL AS is_current
    FROM silver.explanation_of_benefit_history
),
parts AS (
    -- repeating elements read once into typed lists (see explanation_of_benefit.sql)
    SELECT
        *,
        json_transform(r, '{
            "identifier": [{"system": "VARCHAR", "value": "VARCHAR"}],
            "extension": [{"url": "VARCHAR", "valueCode": "VARCHAR"}],
            "total": [{"category": {"coding": [{"code": "VARCHAR"}]}, "amount": {"value": "VARCHAR"}}]
        }') AS t,
        r ->> '$.provider.reference' AS provider_ref
    FROM src
)
SELECT
    id || '@' || CAST(version AS VARCHAR) AS id,
    id AS eob_id,
    version,
    is_current,
    coalesce(
        list_filter(t.identifier, lambda i: i.system = 'https://medlake.dev/fhir/sid/patient-control-number')[1].value,
        r ->> '$.claim.identifier.value'
    ) AS claim_id,
    list_filter(t.identifier, lambda i: i.system = 'https://medlake.dev/fhir/sid/payer-claim-control-number')[1].value AS payer_claim_number,
    patient_id,
    source,
    source_system,
    r ->> 'status' AS status,
    list_filter(t.extension, lambda e: ends_with(e.url, '/claim-status-code'))[1].valueCode AS claim_status_code,
    r ->> 'outcome' AS outcome,
    fhir_ref_id(r ->> '$.insurer.reference', 'Organization') AS insurer_id,
    coalesce(fhir_ref_id(provider_ref, 'Organization'), fhir_ref_id(provider_ref, 'Practitioner')) AS provider_id,
    TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
    TRY_CAST(left(r ->> '$.payment.date', 10) AS DATE) AS payment_date,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'submitted'))[1].amount.value AS DECIMAL(18, 2)) AS charge,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'benefit'))[1].amount.value AS DECIMAL(18, 2)) AS paid,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'patient-responsibility'))[1].amount.value AS DECIMAL(18, 2)) AS patient_responsibility
FROM parts
