-- view: payment
-- grain: one row per silver PaymentReconciliation (an 835 payment: BPR/TRN; row_type
--   `payment`) plus one row per PaymentReconciliation.detail (row_type `detail`): a claim
--   payment (one per CLP, detail_type `payment`) or a provider-level adjustment (one per PLB
--   adjustment, detail_type the PLB03-1 reason: L6 interest, WO overpayment recovery, …).
--   Detail rows have id `<payment id>#<n>` (n = 1-based position in `detail`) and take the
--   payment's trace number and dates.
-- columns:
--   id, payment_id, row_type (payment | detail), detail_index (INTEGER, NULL on payment rows)
--   source, source_system, status
--   trace_number         paymentIdentifier.value (TRN02)
--   payment_date         DATE paymentDate (BPR16); created DATE
--   payer_id             Organization id of paymentIssuer; payee_id id of requestor
--   detail_type          first coding code of detail.type (payment | L6 | WO | …; NULL on payment rows)
--   detail_type_system   its system
--   detail_identifier    detail.identifier.value (PLB03-2 reference)
--   claim_id             detail.request.identifier.value (CLP01 of a claim payment)
--   amount               DECIMAL(18,2): paymentAmount (BPR02) on payment rows, detail.amount
--                        on detail rows (CLP04; a PLB amount as sent: negative = paid to the
--                        provider, e.g. L6 interest)
--   last_updated
WITH src AS (
    -- the payment's own fields are read once here, not once per detail row (a payment can
    -- carry hundreds of details, and re-reading the whole document per detail was quadratic)
    SELECT
        id, source, source_system, last_updated,
        fhir_list(r -> '$.detail') AS details,
        r ->> 'status' AS status,
        r ->> '$.paymentIdentifier.value' AS trace_number,
        TRY_CAST(left(r ->> 'paymentDate', 10) AS DATE) AS payment_date,
        TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
        fhir_ref_id(r ->> '$.paymentIssuer.reference', 'Organization') AS payer_id,
        nullif(regexp_extract(r ->> '$.requestor.reference', '^[A-Za-z]+/(.+)$', 1), '') AS payee_id,
        r ->> '$.paymentAmount.value' AS payment_amount
    FROM (SELECT *, resource::JSON AS r FROM silver.payment_reconciliation)
),
rows AS (
    SELECT id, id AS payment_id, 'payment' AS row_type, CAST(NULL AS INTEGER) AS detail_index,
           source, source_system, last_updated, status, trace_number, payment_date, created, payer_id,
           payee_id, payment_amount, CAST(NULL AS JSON) AS d
    FROM src
    UNION ALL BY NAME
    SELECT id || '#' || CAST(i AS VARCHAR) AS id, id AS payment_id, 'detail' AS row_type,
           CAST(i AS INTEGER) AS detail_index, source, source_system, last_updated, status, trace_number,
           payment_date, created, payer_id, payee_id, payment_amount, details[i] AS d
    FROM (SELECT * FROM src WHERE len(details) > 0), unnest(range(1, len(details) + 1)) AS t(i)
)
SELECT
    id,
    payment_id,
    row_type,
    detail_index,
    source,
    source_system,
    status,
    trace_number,
    payment_date,
    created,
    payer_id,
    payee_id,
    d ->> '$.type.coding[0].code' AS detail_type,
    d ->> '$.type.coding[0].system' AS detail_type_system,
    d ->> '$.identifier.value' AS detail_identifier,
    d ->> '$.request.identifier.value' AS claim_id,
    TRY_CAST(CASE WHEN row_type = 'payment' THEN payment_amount ELSE d ->> '$.amount.value' END
        AS DECIMAL(18, 2)) AS amount,
    last_updated
FROM rows
