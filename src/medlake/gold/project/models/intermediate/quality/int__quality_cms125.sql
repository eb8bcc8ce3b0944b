-- grain: one row per person in the CMS125v13 initial population (Breast Cancer Screening):
-- female, age 52-74 at period end, a qualifying visit.
-- numerator_met: a mammography result (observation with status final/amended/corrected, or a
-- completed procedure or claim line) ending on a day from October 1 two years before the period through
-- period end (for 2025: 2023-10-01..2025-12-31). Evidence: the latest one.
-- exclusion_reason: bilateral mastectomy (procedure, or history-of diagnosis) on or before
-- period end; right AND left unilateral mastectomy (procedure or history-of diagnosis, any
-- dates on or before period end); the shared exclusions.
with population as (
    {{ quality_base_population('CMS125') }}
    and p.gender = 'female'
),
mastectomy as (
    select
        e.person_id,
        bool_or(e.value_set in ('bilateral_mastectomy', 'history_bilateral_mastectomy')) as bilateral,
        bool_or(e.value_set in ('right_mastectomy', 'history_right_mastectomy')) as right_side,
        bool_or(e.value_set in ('left_mastectomy', 'history_left_mastectomy')) as left_side
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where coalesce(e.start_date, date '1900-01-01') <= mp.period_end
        and (
            (e.event_kind in ('procedure', 'claim_line') and coalesce(e.status, 'completed') = 'completed'
                and e.value_set in ('bilateral_mastectomy', 'right_mastectomy', 'left_mastectomy'))
            or (e.event_kind = 'condition' and e.value_set in (
                'history_bilateral_mastectomy', 'history_right_mastectomy', 'history_left_mastectomy'))
        )
    group by e.person_id
),
screenings as (
    select
        e.person_id,
        max(e.end_date) as screening_date,
        arg_max(e.code, (e.end_date, e.code, e.source_system)) as code,
        arg_max(e.source_system, (e.end_date, e.code, e.source_system)) as source_system
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where e.value_set = 'mammography'
        and (
            (e.event_kind = 'observation' and e.status in ('final', 'amended', 'corrected'))
            or (e.event_kind in ('procedure', 'claim_line') and coalesce(e.status, 'completed') = 'completed')
        )
        and e.end_date between make_date(year(mp.period_start) - 2, 10, 1) and mp.period_end
    group by e.person_id
)
select
    p.person_id,
    'CMS125' as measure_id,
    p.age_at_period_end,
    coalesce(
        case when m.bilateral then 'bilateral mastectomy' end,
        case when m.right_side and m.left_side then 'right and left unilateral mastectomy' end,
        {{ quality_shared_exclusion_reason('p.age_at_period_end') }}
    ) as exclusion_reason,
    s.person_id is not null as numerator_met,
    s.screening_date as evidence_date,
    cast(null as varchar) as evidence_value,
    s.code as evidence_code,
    s.source_system as evidence_source
from population as p
left join mastectomy as m on p.person_id = m.person_id
left join screenings as s on p.person_id = s.person_id
left join {{ ref('int__quality_shared_exclusions') }} as sx on p.person_id = sx.person_id
