-- grain: one row per person in the CMS122v13 initial population (Diabetes: Glycemic Status
-- Assessment > 9%, an inverse measure): age 18-75 at period end, a qualifying visit, and a
-- diabetes diagnosis (E10/E11/E13) overlapping the period.
-- numerator_met: no HbA1c/GMI result (status final/amended/corrected) in the period; or, on
-- the most recent day with a result, the LOWEST result that day is > 9.0 (9.0 is not); or
-- that day's results carry no value. Evidence: that day, its lowest value and code.
-- exclusion_reason: the shared exclusions only.
with population as (
    {{ quality_base_population('CMS122') }}
    and exists (
        select 1
        from {{ ref('int__quality_events') }} as e
        cross join {{ ref('int__quality_period') }} as mp
        where e.person_id = p.person_id
            and e.value_set = 'diabetes' and e.event_kind = 'condition'
            and {{ quality_overlaps('mp.period_start', 'mp.period_end') }}
    )
),
results as (
    select e.person_id, e.start_date as result_date, e.value_number, e.code, e.source_system
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where e.value_set = 'hba1c_gmi' and e.event_kind = 'observation'
        and e.status in ('final', 'amended', 'corrected')
        and e.start_date between mp.period_start and mp.period_end
),
last_day as (
    select
        person_id,
        max(result_date) as result_date
    from results
    group by person_id
),
lowest as (
    select
        r.person_id,
        r.result_date,
        min(r.value_number) as lowest_value,
        coalesce(arg_min(r.code, (r.value_number, r.code, r.source_system)) filter (where r.value_number is not null), min(r.code)) as code,
        coalesce(arg_min(r.source_system, (r.value_number, r.code, r.source_system)) filter (where r.value_number is not null), min(r.source_system)) as source_system
    from results as r
    inner join last_day as d on r.person_id = d.person_id and r.result_date = d.result_date
    group by r.person_id, r.result_date
)
select
    p.person_id,
    'CMS122' as measure_id,
    p.age_at_period_end,
    {{ quality_shared_exclusion_reason('p.age_at_period_end') }} as exclusion_reason,
    l.person_id is null or l.lowest_value is null or l.lowest_value > 9.0 as numerator_met,
    l.result_date as evidence_date,
    {{ quality_number_text('l.lowest_value') }} as evidence_value,
    l.code as evidence_code,
    l.source_system as evidence_source
from population as p
left join lowest as l on p.person_id = l.person_id
left join {{ ref('int__quality_shared_exclusions') }} as sx on p.person_id = sx.person_id
