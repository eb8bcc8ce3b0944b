-- grain: one row per cohort × risk stratum, plus one row per cohort with risk_stratum 'all'.
with counts as (
    select cohort, risk_stratum, count(distinct person_id) as persons
    from {{ ref('cohort_members') }}
    group by grouping sets ((cohort, risk_stratum), (cohort))
)
select
    cohort,
    coalesce(risk_stratum, 'all') as risk_stratum,
    persons,
    round(persons / max(persons) filter (where risk_stratum is null) over (partition by cohort), 4) as share_of_cohort
from counts
