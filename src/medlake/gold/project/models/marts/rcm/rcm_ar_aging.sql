-- grain: one row per claim with an insurance balance > 0 at as_of_date (var `as_of`, default
-- the latest date in the claims data), bucketed by days since its first submission.
select
    a.as_of_date,
    a.claim_id,
    c.claim_resource_id,
    c.patient_id,
    c.payer_id,
    c.payer_name,
    c.billing_provider_id,
    c.billing_provider_npi,
    a.submitted_date,
    a.days_outstanding,
    case
        when a.days_outstanding <= 30 then '0-30'
        when a.days_outstanding <= 60 then '31-60'
        when a.days_outstanding <= 90 then '61-90'
        when a.days_outstanding <= 120 then '91-120'
        else '120+'
    end as aging_bucket,
    a.billed,
    a.adjudicated_charge,
    a.balance
from {{ ref('int__rcm_ar_state') }} as a
left join {{ ref('int__rcm_claims') }} as c on c.claim_id = a.claim_id
where a.balance > 0
