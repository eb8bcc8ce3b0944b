-- grain: one row per month of service × billing provider × rendering provider (the claim's
-- first careTeam member with role `performing`), over claims on file that are not voided.
with claims as (
    select
        s.*,
        cast(date_trunc('month', s.service_date) as date) as month,
        {{ rcm_money('n.paid') }} as net_paid
    from {{ ref('int__rcm_claim_states') }} as s
    left join {{ ref('int__rcm_claim_net') }} as n on n.claim_id = s.claim_id
    where s.on_file and not s.is_voided
)
select
    month,
    billing_provider_id,
    min(billing_provider_npi) as billing_provider_npi,
    min(billing_provider_name) as billing_provider_name,
    rendering_provider_id,
    min(rendering_provider_npi) as rendering_provider_npi,
    count(*) as claims,
    sum(line_count) as lines,
    sum(units) as units,
    cast(sum({{ rcm_money('billed') }}) as decimal(18, 2)) as billed,
    cast(sum(net_paid) as decimal(18, 2)) as paid
from claims
group by month, billing_provider_id, rendering_provider_id
