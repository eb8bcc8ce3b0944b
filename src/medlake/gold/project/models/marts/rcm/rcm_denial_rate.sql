-- grain: one row per month of first adjudication × payer × billing provider × procedure code
-- (CPT/HCPCS of the claim's lines; NULL for a claim known only from its remittance). A claim
-- counts once under each distinct code it carries, so rows of one month and payer must not be
-- summed across codes to count claims.
with claims as (
    select
        s.*,
        cast(date_trunc('month', s.adjudicated_date) as date) as month,
        coalesce(g.has_co, false) as has_co,
        coalesce(g.has_pr, false) as has_pr,
        coalesce(g.has_oa, false) as has_oa,
        coalesce(g.has_pi, false) as has_pi
    from {{ ref('int__rcm_claim_states') }} as s
    left join (
        select
            claim_id,
            bool_or(group_code = 'CO') as has_co,
            bool_or(group_code = 'PR') as has_pr,
            bool_or(group_code = 'OA') as has_oa,
            bool_or(group_code = 'PI') as has_pi
        from {{ ref('int__rcm_denial_carcs') }}
        group by claim_id
    ) as g on g.claim_id = s.claim_id
    where s.adjudicated_date is not null
),
by_code as (
    select c.*, code as procedure_code
    from claims as c,
        unnest(case when len(c.procedure_codes) = 0 then [cast(null as varchar)] else c.procedure_codes end) as t(code)
),
counts as (
    select
        month,
        payer_id,
        min(payer_name) as payer_name,
        billing_provider_id,
        min(billing_provider_npi) as billing_provider_npi,
        procedure_code,
        count(*) as adjudicated_claims,
        count(*) filter (where denial_count > 0) as denied_claims,
        count(*) filter (where denial_count > 0 and has_co) as denied_claims_co,
        count(*) filter (where denial_count > 0 and has_pr) as denied_claims_pr,
        count(*) filter (where denial_count > 0 and has_oa) as denied_claims_oa,
        count(*) filter (where denial_count > 0 and has_pi) as denied_claims_pi
    from by_code
    group by month, payer_id, billing_provider_id, procedure_code
)
select
    *,
    {{ rcm_ratio('denied_claims', 'adjudicated_claims') }} as denial_rate,
    {{ rcm_ratio('denied_claims_co', 'adjudicated_claims') }} as denial_rate_co,
    {{ rcm_ratio('denied_claims_pr', 'adjudicated_claims') }} as denial_rate_pr,
    {{ rcm_ratio('denied_claims_oa', 'adjudicated_claims') }} as denial_rate_oa,
    {{ rcm_ratio('denied_claims_pi', 'adjudicated_claims') }} as denial_rate_pi
from counts
