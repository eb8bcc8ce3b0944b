-- grain: one row per PaymentReconciliation (row_type payment) and one per detail (row_type
-- detail: a claim payment or a PLB provider-level adjustment)
select
    id as payment_row_id,
    payment_id,
    row_type,
    detail_index,
    source,
    status,
    trace_number,
    payment_date,
    created as created_date,
    payer_id,
    payee_id,
    detail_type,
    detail_type_system,
    detail_identifier,
    claim_id,
    amount
from {{ source('rcm_views', 'payment') }}
