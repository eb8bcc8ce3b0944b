-- grain: one row per month of first adjudication × payer. A claim passes first time when
-- its first adjudication was not a denial, it was never denied later and never replaced
-- (no frequency-7 version). Reversals by the payer do not count against it.
with claims as (
    select
        *,
        cast(date_trunc('month', adjudicated_date) as date) as month,
        first_outcome in ('paid', 'partially_paid', 'patient_responsibility')
            and denial_count = 0
            and resubmitted_date is null as first_pass
    from {{ ref('int__rcm_claim_states') }}
    where adjudicated_date is not null
)
select
    month,
    payer_id,
    min(payer_name) as payer_name,
    count(*) as adjudicated_claims,
    count(*) filter (where first_pass) as first_pass_claims,
    {{ rcm_ratio('count(*) filter (where first_pass)', 'count(*)') }} as first_pass_rate,
    count(*) filter (where first_outcome = 'denied') as denied_first_claims,
    count(*) filter (where resubmitted_date is not null) as resubmitted_claims
from claims
group by month, payer_id
