-- grain: one row per payer (scope `payer`) plus one row for all payers (scope `total`,
-- payer_id NULL), at as_of_date. days_in_ar = ar_balance / (charges of the last 90 days / 90).
with state as (
    select a.*, c.payer_id, c.payer_name
    from {{ ref('int__rcm_ar_state') }} as a
    left join {{ ref('int__rcm_claims') }} as c on c.claim_id = a.claim_id
),
grouped as (
    select
        'payer' as scope,
        payer_id,
        min(payer_name) as payer_name,
        min(as_of_date) as as_of_date,
        sum(balance) filter (where balance > 0) as ar_balance,
        count(*) filter (where balance > 0) as claims_outstanding,
        sum(billed) filter (where days_outstanding < 90) as charges_90d
    from state
    group by payer_id
    union all
    select
        'total',
        null,
        null,
        min(as_of_date),
        sum(balance) filter (where balance > 0),
        count(*) filter (where balance > 0),
        sum(billed) filter (where days_outstanding < 90)
    from state
    having count(*) > 0
)
select
    as_of_date,
    scope,
    payer_id,
    payer_name,
    {{ rcm_money('ar_balance') }} as ar_balance,
    claims_outstanding,
    {{ rcm_money('charges_90d') }} as charges_90d,
    round(cast(coalesce(charges_90d, 0) as double) / 90, 2) as avg_daily_charges,
    round(cast(coalesce(ar_balance, 0) as double) / nullif(cast(coalesce(charges_90d, 0) as double) / 90, 0), 1) as days_in_ar
from grouped
