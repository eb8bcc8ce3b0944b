-- grain: one row per enterprise person (every person of patient_360).
--   attributed_provider  the practitioner of most of the person's encounters in the 24 months
--                        up to as_of_at (ties: the latest visit, then the smallest id); when
--                        none in that window, over all encounters.
--   attributed_payer     the payer of the person's latest claim (by billable start, else
--                        creation date; ties: the highest claim id). NULL without claims.
with as_of as (
    select as_of_at from {{ ref('int__as_of') }}
),

visits as (
    select
        x.person_id,
        e.practitioner_id,
        count(*) filter (where e.period_start > a.as_of_at - interval 24 months and e.period_start <= a.as_of_at) as recent_visits,
        count(*) as visits,
        max(e.period_start) as last_visit_at
    from {{ ref('int__encounters') }} as e
    inner join {{ ref('int__person_xref') }} as x on e.patient_id = x.patient_id
    cross join as_of as a
    where e.practitioner_id is not null
    group by x.person_id, e.practitioner_id
),

provider as (
    select person_id, practitioner_id as attributed_provider
    from visits
    qualify row_number() over (
        partition by person_id
        order by recent_visits desc, visits desc, last_visit_at desc nulls last, practitioner_id
    ) = 1
),

payer as (
    select
        x.person_id,
        c.payer_id as attributed_payer_id,
        c.payer_name as attributed_payer
    from {{ ref('stg__claim') }} as c
    inner join {{ ref('int__person_xref') }} as x on c.patient_id = x.patient_id
    where c.payer_id is not null or c.payer_name is not null
    qualify row_number() over (
        partition by x.person_id
        order by coalesce(cast(c.billable_start as date), cast(c.created_date as date)) desc nulls last, c.claim_id desc
    ) = 1
)

select
    p.person_id,
    pv.attributed_provider,
    py.attributed_payer_id,
    coalesce(py.attributed_payer, py.attributed_payer_id) as attributed_payer
from {{ ref('patient_360') }} as p
left join provider as pv on p.person_id = pv.person_id
left join payer as py on p.person_id = py.person_id
