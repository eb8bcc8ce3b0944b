-- grain: one row per month of first submission × payer, over claims on file that are not
-- voided. net_collection_rate = paid / (billed - contractual adjustments (CAS group CO)).
with claims as (
    select
        s.claim_id,
        s.payer_id,
        s.payer_name,
        cast(date_trunc('month', s.submitted_date) as date) as month,
        {{ rcm_money('s.billed') }} as billed,
        {{ rcm_money('n.paid') }} as paid,
        {{ rcm_money('n.contractual_adjustments') }} as contractual_adjustments,
        {{ rcm_money('n.patient_responsibility') }} as patient_responsibility
    from {{ ref('int__rcm_claim_states') }} as s
    left join {{ ref('int__rcm_claim_net') }} as n on n.claim_id = s.claim_id
    where s.on_file and not s.is_voided
)
select
    month,
    payer_id,
    min(payer_name) as payer_name,
    count(*) as claims,
    cast(sum(billed) as decimal(18, 2)) as billed,
    cast(sum(paid) as decimal(18, 2)) as paid,
    cast(sum(contractual_adjustments) as decimal(18, 2)) as contractual_adjustments,
    cast(sum(patient_responsibility) as decimal(18, 2)) as patient_responsibility,
    {{ rcm_ratio('sum(paid)', 'sum(billed) - sum(contractual_adjustments)') }} as net_collection_rate
from claims
group by month, payer_id
