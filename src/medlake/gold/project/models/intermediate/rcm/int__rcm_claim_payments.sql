-- grain: one row per claim_id with at least one claim payment line in a PaymentReconciliation
-- (an 835 CLP: detail with request identifier CLP01)
--   payments_posted      sum of the claim's detail amounts (CLP04 as sent: reversals negative)
--   first_payment_date   first payment date of a positive amount
--   takeback_date        first payment date of a negative amount (a reversal)
select
    claim_id,
    cast(sum(amount) as decimal(18, 2)) as payments_posted,
    min(payment_date) filter (where amount > 0) as first_payment_date,
    min(payment_date) filter (where amount < 0) as takeback_date
from {{ ref('stg__payment') }}
where row_type = 'detail' and claim_id is not null
group by claim_id
