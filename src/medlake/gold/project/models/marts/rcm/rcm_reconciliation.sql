-- grain: one row per claim on file (a Claim exists) that is not voided. Every billed dollar
-- is accounted for: billed = paid + adjustments + patient_responsibility + outstanding, with
-- DECIMAL(18,2) amounts; balanced says whether it holds to the cent.
with claims as (
    select * from {{ ref('int__rcm_claim_states') }} where on_file and not is_voided
)
select
    c.claim_id,
    c.claim_resource_id,
    c.patient_id,
    c.payer_id,
    c.payer_name,
    c.billing_provider_id,
    c.current_state,
    coalesce(n.eob_count, 0) as eob_count,
    {{ rcm_money('c.billed') }} as billed,
    {{ rcm_money('n.paid') }} as paid,
    {{ rcm_money('n.contractual_adjustments') }} as contractual_adjustments,
    {{ rcm_money('n.other_adjustments') }} as other_adjustments,
    cast({{ rcm_money('n.contractual_adjustments') }} + {{ rcm_money('n.other_adjustments') }} as decimal(18, 2)) as adjustments,
    {{ rcm_money('n.patient_responsibility') }} as patient_responsibility,
    cast({{ rcm_money('c.billed') }} - {{ rcm_money('n.adjudicated_charge') }} as decimal(18, 2)) as outstanding,
    cast(
        {{ rcm_money('n.adjudicated_charge') }} - {{ rcm_money('n.paid') }}
        - {{ rcm_money('n.contractual_adjustments') }} - {{ rcm_money('n.other_adjustments') }}
        - {{ rcm_money('n.patient_responsibility') }}
        as decimal(18, 2)
    ) as difference,
    {{ rcm_money('n.adjudicated_charge') }} = {{ rcm_money('n.paid') }}
        + {{ rcm_money('n.contractual_adjustments') }} + {{ rcm_money('n.other_adjustments') }}
        + {{ rcm_money('n.patient_responsibility') }} as balanced,
    n.allowed,
    {{ rcm_money('p.payments_posted') }} as payments_posted
from claims as c
left join {{ ref('int__rcm_claim_net') }} as n on n.claim_id = c.claim_id
left join {{ ref('int__rcm_claim_payments') }} as p on p.claim_id = c.claim_id
