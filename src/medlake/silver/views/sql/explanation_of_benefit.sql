-- view: explanation_of_benefit
-- grain: one row per silver ExplanationOfBenefit (its current version). An 835 claim payment
--   (CLP) is keyed on payer + CLP01, so the original adjudication, its reversal (CLP02 22) and
--   its correction are versions of one row; every version is in `eob_version`.
-- columns:
--   id, patient_id, source, source_system
--   version              current version number (= how many versions medlake has stored)
--   claim_id             identifier with system .../patient-control-number (CLP01 = CLM01),
--                        else claim.identifier.value
--   payer_claim_number   identifier with system .../payer-claim-control-number (CLP07)
--   status               active | cancelled (a reversal)
--   claim_status_code    extension claim-status-code (CLP02: 1 primary, 2 secondary, 4 denied,
--                        22 reversal …)
--   outcome, disposition
--   eob_type             first coding code of type
--   insurer_id, payer_name   Organization id and display of insurer (the payer)
--   provider_id          id of provider (the payee), Organization or Practitioner
--   created              DATE
--   payment_date         DATE payment.date (BPR16); payment_type payment.type code (ACH, CHK, NON)
--   payment_identifier   payment.identifier.value (TRN02)
--   charge               DECIMAL(18,2) total `submitted` (CLP03)
--   paid                 DECIMAL(18,2) total `benefit` (CLP04)
--   patient_responsibility   DECIMAL(18,2) total `patient-responsibility` (CLP05)
--   allowed              DECIMAL(18,2) sum of the items' `eligible` adjudications (AMT*B6);
--                        NULL when no line has one
--   line_count
--   last_updated
-- Amounts are as sent: a reversal's are negative.
WITH src AS (
    SELECT id, patient_id, source, source_system, version, last_updated, resource::JSON AS r
    FROM silver.explanation_of_benefit
),
parts AS (
    -- the repeating elements are read once into typed lists (json_transform), and the
    -- filters below run on those, not on JSON re-parsed per lambda call
    SELECT
        *,
        json_transform(r, '{
            "identifier": [{"system": "VARCHAR", "value": "VARCHAR"}],
            "extension": [{"url": "VARCHAR", "valueCode": "VARCHAR"}],
            "total": [{"category": {"coding": [{"code": "VARCHAR"}]}, "amount": {"value": "VARCHAR"}}],
            "item": [{"adjudication": [{"category": {"coding": [{"code": "VARCHAR"}]}, "amount": {"value": "VARCHAR"}}]}]
        }') AS t,
        r ->> '$.provider.reference' AS provider_ref
    FROM src
)
SELECT
    id,
    patient_id,
    source,
    source_system,
    version,
    coalesce(
        list_filter(t.identifier, lambda i: i.system = 'https://medlake.dev/fhir/sid/patient-control-number')[1].value,
        r ->> '$.claim.identifier.value'
    ) AS claim_id,
    list_filter(t.identifier, lambda i: i.system = 'https://medlake.dev/fhir/sid/payer-claim-control-number')[1].value AS payer_claim_number,
    r ->> 'status' AS status,
    list_filter(t.extension, lambda e: ends_with(e.url, '/claim-status-code'))[1].valueCode AS claim_status_code,
    r ->> 'outcome' AS outcome,
    r ->> 'disposition' AS disposition,
    r ->> '$.type.coding[0].code' AS eob_type,
    fhir_ref_id(r ->> '$.insurer.reference', 'Organization') AS insurer_id,
    r ->> '$.insurer.display' AS payer_name,
    coalesce(fhir_ref_id(provider_ref, 'Organization'), fhir_ref_id(provider_ref, 'Practitioner')) AS provider_id,
    TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
    TRY_CAST(left(r ->> '$.payment.date', 10) AS DATE) AS payment_date,
    r ->> '$.payment.type.coding[0].code' AS payment_type,
    r ->> '$.payment.identifier.value' AS payment_identifier,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'submitted'))[1].amount.value AS DECIMAL(18, 2)) AS charge,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'benefit'))[1].amount.value AS DECIMAL(18, 2)) AS paid,
    TRY_CAST(list_filter(t.total, lambda x: list_contains(list_transform(x.category.coding, lambda c: c.code),
        'patient-responsibility'))[1].amount.value AS DECIMAL(18, 2)) AS patient_responsibility,
    CAST(list_sum(list_transform(coalesce(t.item, []), lambda it: TRY_CAST(
        list_filter(it.adjudication, lambda a: list_contains(list_transform(a.category.coding, lambda c: c.code),
            'eligible'))[1].amount.value
        AS DECIMAL(18, 2)))) AS DECIMAL(18, 2)) AS allowed,
    len(coalesce(t.item, [])) AS line_count,
    last_updated
FROM parts
