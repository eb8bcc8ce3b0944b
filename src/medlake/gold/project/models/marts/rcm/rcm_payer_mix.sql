-- grain: one row per payer, over claims on file that are not voided: claims, lines, charges
-- and payments, and each payer's share of all of them.
with claims as (
    select
        s.payer_id,
        s.payer_name,
        s.line_count,
        {{ rcm_money('s.billed') }} as billed,
        {{ rcm_money('n.paid') }} as paid,
        {{ rcm_money('n.patient_responsibility') }} as patient_responsibility
    from {{ ref('int__rcm_claim_states') }} as s
    left join {{ ref('int__rcm_claim_net') }} as n on n.claim_id = s.claim_id
    where s.on_file and not s.is_voided
),
by_payer as (
    select
        payer_id,
        min(payer_name) as payer_name,
        count(*) as claims,
        sum(line_count) as lines,
        cast(sum(billed) as decimal(18, 2)) as billed,
        cast(sum(paid) as decimal(18, 2)) as paid,
        cast(sum(patient_responsibility) as decimal(18, 2)) as patient_responsibility
    from claims
    group by payer_id
)
select
    *,
    {{ rcm_ratio('claims', 'sum(claims) over ()') }} as share_of_claims,
    {{ rcm_ratio('billed', 'sum(billed) over ()') }} as share_of_charges,
    {{ rcm_ratio('paid', 'sum(paid) over ()') }} as share_of_payments
from by_payer
