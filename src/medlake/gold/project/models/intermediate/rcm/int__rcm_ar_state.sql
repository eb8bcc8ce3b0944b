-- grain: one row per claim_id with a Claim version created on or before as_of_date
-- (int__rcm_as_of), not voided as of that date: its insurance balance then.
--   submitted_date       first version's created date
--   billed               total charge of the latest version created by as_of_date
--   adjudicated_charge   CLP03 of the EOB versions in force at as_of_date (per EOB: the latest
--                        one dated by then; a reversal in force counts as nothing adjudicated)
--   balance              billed - adjudicated_charge (the insurance receivable; patient
--                        responsibility is not in it: patient payments are not in the feeds)
--   days_outstanding     as_of_date - submitted_date
with as_of as (
    select as_of_date from {{ ref('int__rcm_as_of') }}
),
versions as (
    select v.*
    from {{ ref('stg__claim_version') }} as v, as_of
    where v.created_date <= as_of.as_of_date
),
claims as (
    select
        claim_id,
        min(created_date) over (partition by claim_id) as submitted_date,
        total_charge as billed,
        coalesce(frequency = '8' or status = 'cancelled', false) as is_voided
    from versions
    qualify row_number() over (
        partition by claim_id order by created_date desc, version desc, claim_resource_id
    ) = 1
),
eob_in_force as (
    select e.*
    from {{ ref('int__rcm_eob_versions') }} as e, as_of
    where coalesce(e.effective_date <= as_of.as_of_date, true)
    qualify row_number() over (
        partition by e.eob_id order by e.effective_date desc nulls last, e.version desc
    ) = 1
),
adjudicated as (
    select claim_id, sum(charge) as adjudicated_charge
    from eob_in_force
    where not is_reversal
    group by claim_id
)
select
    as_of.as_of_date,
    c.claim_id,
    c.submitted_date,
    {{ rcm_money('c.billed') }} as billed,
    {{ rcm_money('a.adjudicated_charge') }} as adjudicated_charge,
    cast({{ rcm_money('c.billed') }} - {{ rcm_money('a.adjudicated_charge') }} as decimal(18, 2)) as balance,
    cast(as_of.as_of_date - c.submitted_date as integer) as days_outstanding
from claims as c
cross join as_of
left join adjudicated as a on a.claim_id = c.claim_id
where not c.is_voided
