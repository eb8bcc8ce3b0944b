-- grain: one row per claim_id (int__rcm_claims): the dates of each lifecycle step and the
-- current state (see rcm_claim_lifecycle in marts/rcm/_rcm.yml and docs/revenue-cycle.md).
with responses as (
    select
        *,
        coalesce(status_category in ('A3', 'A4', 'A6', 'A7', 'A8'), false) as is_rejection,
        coalesce(status_category like 'E%' or status_category like 'D%', false) as is_error
    from {{ ref('stg__claim_response_version') }}
),
response_dates as (
    select
        claim_id,
        min(created_date) filter (where not is_rejection and not is_error) as acknowledged_date,
        min(created_date) filter (where is_rejection) as rejected_date,
        count(*) as status_count
    from responses
    group by claim_id
),
latest_response as (
    select claim_id, status_category as last_status_category, is_rejection as last_is_rejection,
           created_date as last_status_date
    from responses
    qualify row_number() over (
        partition by claim_id order by created_date desc nulls last, version desc, claim_response_id
    ) = 1
),
joined as (
    select
        c.*,
        rd.acknowledged_date,
        rd.rejected_date,
        coalesce(rd.status_count, 0) as status_count,
        lr.last_status_category,
        lr.last_is_rejection,
        lr.last_status_date,
        n.adjudicated_date,
        n.first_outcome,
        n.paid_date,
        n.denied_date,
        coalesce(n.denial_count, 0) as denial_count,
        -- a reversal shows as an EOB version with CLP02 22, or as a negative claim payment
        least(n.reversed_date, p.takeback_date) as reversed_date,
        n.latest_outcome,
        n.last_adjudicated_date,
        coalesce(n.eob_count, 0) as eob_count,
        coalesce(n.eob_version_count, 0) as eob_version_count,
        {{ rcm_money('n.paid') }} as paid
    from {{ ref('int__rcm_claims') }} as c
    left join response_dates as rd on rd.claim_id = c.claim_id
    left join latest_response as lr on lr.claim_id = c.claim_id
    left join {{ ref('int__rcm_claim_net') }} as n on n.claim_id = c.claim_id
    left join {{ ref('int__rcm_claim_payments') }} as p on p.claim_id = c.claim_id
)
select
    *,
    case
        when is_voided then 'voided'
        when last_resubmitted_date is not null
            and (last_adjudicated_date is null or last_resubmitted_date > last_adjudicated_date)
            then 'resubmitted'
        when latest_outcome is not null then latest_outcome
        when last_is_rejection
            and (last_submitted_date is null or last_status_date >= last_submitted_date)
            then 'rejected'
        when acknowledged_date is not null then 'acknowledged'
        else 'submitted'
    end as current_state,
    greatest(
        last_submitted_date, last_adjudicated_date, last_status_date, reversed_date
    ) as last_activity_date
from joined
