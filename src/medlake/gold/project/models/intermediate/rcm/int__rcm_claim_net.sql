-- grain: one row per claim_id that has at least one ExplanationOfBenefit: where its
-- adjudication stands now (the version in force of each of its EOBs, int__rcm_eob_versions
-- is_latest; an EOB whose version in force is a reversal counts as not adjudicated) and what
-- its EOB history says (first adjudication, first payment, denials, reversals).
--   eob_count, eob_version_count
--   adjudicated_charge   sum of CLP03 of the versions in force (what the payers adjudicated)
--   paid                 sum of CLP04 of the versions in force
--   contractual_adjustments   CAS group CO of the versions in force (claim + line level)
--   other_adjustments    every other CAS group but PR (OA, PI, CR …)
--   patient_responsibility    CAS group PR of the versions in force
--   allowed              sum of AMT*B6 of the current EOBs (when the current version is the one in force)
--   latest_outcome       outcome of the claim's latest EOB version (any EOB; by date, version)
--   last_adjudicated_date     its effective date
--   adjudicated_date, first_outcome   the first non-reversal version
--   paid_date            first version that paid (CLP04 > 0)
--   denied_date, denial_count   first denial, number of denial versions
--   reversed_date        first reversal version
with versions as (
    select * from {{ ref('int__rcm_eob_versions') }}
),
in_force as (
    select * from versions where is_latest and not is_reversal
),
adjustments as (
    select
        a.claim_id,
        sum(a.amount) filter (where a.group_code = 'CO') as contractual_adjustments,
        sum(a.amount) filter (where a.group_code is distinct from 'CO' and a.group_code is distinct from 'PR') as other_adjustments,
        sum(a.amount) filter (where a.group_code = 'PR') as patient_responsibility
    from {{ ref('stg__eob_adjustment') }} as a
    join in_force as f on f.eob_version_id = a.eob_version_id
    group by a.claim_id
),
amounts as (
    select
        claim_id,
        sum(charge) as adjudicated_charge,
        sum(paid) as paid
    from in_force
    group by claim_id
),
allowed as (
    select f.claim_id, sum(e.allowed) as allowed
    from in_force as f
    join {{ ref('stg__eob') }} as e on e.eob_id = f.eob_id and e.eob_version = f.version
    group by f.claim_id
),
latest as (
    select claim_id, outcome as latest_outcome, effective_date as last_adjudicated_date
    from versions
    qualify row_number() over (
        partition by claim_id order by effective_date desc nulls last, version desc, eob_id
    ) = 1
),
history as (
    select
        claim_id,
        count(distinct eob_id) as eob_count,
        count(*) as eob_version_count,
        min(effective_date) filter (where not is_reversal) as adjudicated_date,
        min(outcome) filter (where adjudication_seq = 1) as first_outcome,
        min(effective_date) filter (where not is_reversal and paid > 0) as paid_date,
        min(effective_date) filter (where outcome = 'denied') as denied_date,
        count(*) filter (where outcome = 'denied') as denial_count,
        min(effective_date) filter (where is_reversal) as reversed_date
    from versions
    where claim_id is not null
    group by claim_id
)
select
    h.claim_id,
    h.eob_count,
    h.eob_version_count,
    {{ rcm_money('m.adjudicated_charge') }} as adjudicated_charge,
    {{ rcm_money('m.paid') }} as paid,
    {{ rcm_money('a.contractual_adjustments') }} as contractual_adjustments,
    {{ rcm_money('a.other_adjustments') }} as other_adjustments,
    {{ rcm_money('a.patient_responsibility') }} as patient_responsibility,
    cast(al.allowed as decimal(18, 2)) as allowed,
    l.latest_outcome,
    l.last_adjudicated_date,
    h.adjudicated_date,
    h.first_outcome,
    h.paid_date,
    h.denied_date,
    h.denial_count,
    h.reversed_date
from history as h
left join amounts as m on m.claim_id = h.claim_id
left join adjustments as a on a.claim_id = h.claim_id
left join allowed as al on al.claim_id = h.claim_id
left join latest as l on l.claim_id = h.claim_id
