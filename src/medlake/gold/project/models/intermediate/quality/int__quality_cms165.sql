-- grain: one row per person in the CMS165v13 initial population (Controlling High Blood
-- Pressure): age 18-85 at period end, a qualifying visit, and essential hypertension (I10)
-- overlapping the first six months of the period [period_start, period_start + 6 months).
-- numerator_met: on the most recent day in the period with a systolic or diastolic reading
-- (status final/amended/corrected, with a value, not from an inpatient or ED encounter), the
-- lowest systolic < 140 and the lowest diastolic < 90 (they may come from different
-- readings). No reading, or a day without both, is not controlled.
-- exclusion_reason: ESRD, CKD stage 5, kidney transplant (recipient status overlapping the
-- period, or the procedure on or before period end), dialysis (status overlapping, or the
-- procedure on or before period end), pregnancy overlapping the period; age 66-80 with frailty
-- and advanced illness; age 81+ with frailty; the other shared exclusions.
with population as (
    {{ quality_base_population('CMS165') }}
    and exists (
        select 1
        from {{ ref('int__quality_events') }} as e
        cross join {{ ref('int__quality_period') }} as mp
        where e.person_id = p.person_id
            and e.value_set = 'essential_hypertension' and e.event_kind = 'condition'
            and {{ quality_overlaps('mp.period_start', 'cast(mp.period_start + interval 6 month as date) - 1') }}
    )
),
kidney_pregnancy as (
    select
        e.person_id,
        min(case
            when e.value_set = 'esrd' then 'end-stage renal disease'
            when e.value_set = 'ckd_stage_5' then 'chronic kidney disease stage 5'
            when e.value_set = 'kidney_transplant' then 'kidney transplant'
            when e.value_set = 'dialysis' then 'dialysis'
            when e.value_set = 'pregnancy' then 'pregnancy'
        end) as reason
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where (e.event_kind = 'condition'
            and e.value_set in ('esrd', 'ckd_stage_5', 'kidney_transplant', 'dialysis', 'pregnancy')
            and {{ quality_overlaps('mp.period_start', 'mp.period_end') }})
        or (e.event_kind in ('procedure', 'claim_line') and e.value_set in ('kidney_transplant', 'dialysis')
            and e.start_date <= mp.period_end)
    group by e.person_id
),
readings as (
    select e.person_id, e.value_set, e.start_date as reading_date, e.value_number, e.code, e.source_system
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where e.value_set in ('systolic_bp', 'diastolic_bp') and e.event_kind = 'observation'
        and e.status in ('final', 'amended', 'corrected')
        and e.value_number is not null
        and e.start_date between mp.period_start and mp.period_end
        and coalesce(e.encounter_class, '') not in ('IMP', 'ACUTE', 'NONAC', 'EMER')
),
last_day as (
    select
        person_id,
        max(reading_date) as reading_date
    from readings
    group by person_id
),
lowest as (
    select
        r.person_id,
        r.reading_date,
        min(r.value_number) filter (where r.value_set = 'systolic_bp') as systolic,
        min(r.value_number) filter (where r.value_set = 'diastolic_bp') as diastolic,
        min(r.source_system) as source_system
    from readings as r
    inner join last_day as d on r.person_id = d.person_id and r.reading_date = d.reading_date
    group by r.person_id, r.reading_date
)
select
    p.person_id,
    'CMS165' as measure_id,
    p.age_at_period_end,
    coalesce(
        case when sx.hospice then 'hospice care in the period' end,
        case when sx.palliative then 'palliative care in the period' end,
        k.reason,
        case when p.age_at_period_end between 66 and 80 and sx.frailty and sx.advanced_illness
            then 'age 66-80 with frailty and advanced illness' end,
        case when p.age_at_period_end >= 81 and sx.frailty then 'age 81+ with frailty' end,
        case when p.age_at_period_end >= 66 and sx.nursing_home
            then 'age 66+ living long-term in a nursing home' end
    ) as exclusion_reason,
    coalesce(l.systolic < 140 and l.diastolic < 90, false) as numerator_met,
    l.reading_date as evidence_date,
    case when l.person_id is not null
        then coalesce({{ quality_number_text('l.systolic') }}, '-') || '/'
            || coalesce({{ quality_number_text('l.diastolic') }}, '-')
    end as evidence_value,
    case when l.person_id is not null then '8480-6/8462-4' end as evidence_code,
    l.source_system as evidence_source
from population as p
left join lowest as l on p.person_id = l.person_id
left join kidney_pregnancy as k on p.person_id = k.person_id
left join {{ ref('int__quality_shared_exclusions') }} as sx on p.person_id = sx.person_id
