-- grain: one row per claim × CAS group × CARC found on a denial of that claim (an
-- adjudication with CLP02 4, or one where the payer paid nothing and nothing went to the
-- patient). Amount and date are those of the first denial that carried the reason.
with ranked as (
    select
        *,
        row_number() over (
            partition by claim_id, group_code, reason_code
            order by denied_date nulls last, version, eob_version_id
        ) as n,
        count(*) over (partition by claim_id, group_code, reason_code) as times_denied
    from {{ ref('int__rcm_denial_carcs') }}
)
select
    r.claim_id,
    r.group_code,
    r.reason_code,
    s.patient_id,
    s.payer_id,
    s.payer_name,
    s.billing_provider_id,
    s.billing_provider_npi,
    r.denied_date as first_denied_date,
    r.amount as denied_amount,
    r.times_denied,
    case when r.has_claim_level then 'claim' else 'line' end as level,
    case
        when len(r.line_procedure_codes) > 0 then r.line_procedure_codes
        else coalesce(s.procedure_codes, [])
    end as procedure_codes,
    s.current_state,
    s.current_state in ('paid', 'partially_paid', 'patient_responsibility') as overturned
from ranked as r
left join {{ ref('int__rcm_claim_states') }} as s on s.claim_id = r.claim_id
where r.n = 1
