-- grain: one row per person in the CMS130v13 initial population (Colorectal Cancer
-- Screening): age 46-75 at period end, a qualifying visit.
-- numerator_met, any of: FOBT in the period; FIT-DNA in the period or the 2 years before;
-- flexible sigmoidoscopy or CT colonography in the period or the 4 years before; colonoscopy
-- in the period or the 9 years before. FOBT and FIT-DNA are lab observations (status
-- final/amended/corrected, category laboratory); the others are observations with such a
-- status, completed procedures or claim lines. Evidence: the latest qualifying test (evidence_value
-- names its kind, e.g. `colonoscopy`).
-- exclusion_reason: colorectal cancer (diagnosis starting on or before period end) or total
-- colectomy (procedure on or before period end); the shared exclusions.
with population as (
    {{ quality_base_population('CMS130') }}
),
colorectal as (
    select
        e.person_id,
        min(case when e.value_set = 'colorectal_cancer' then 'colorectal cancer' else 'total colectomy' end)
            as reason
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where coalesce(e.start_date, date '1900-01-01') <= mp.period_end
        and (
            (e.event_kind = 'condition' and e.value_set = 'colorectal_cancer')
            or (e.event_kind in ('procedure', 'claim_line') and e.value_set = 'total_colectomy'
                and coalesce(e.status, 'completed') = 'completed')
        )
    group by e.person_id
),
screenings as (
    select
        e.person_id,
        max(e.end_date) as screening_date,
        arg_max(e.value_set, (e.end_date, e.value_set, e.code, e.source_system)) as test,
        arg_max(e.code, (e.end_date, e.value_set, e.code, e.source_system)) as code,
        arg_max(e.source_system, (e.end_date, e.value_set, e.code, e.source_system)) as source_system
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where e.end_date <= mp.period_end
        and (
            (e.event_kind = 'observation' and e.status in ('final', 'amended', 'corrected')
                and (e.value_set not in ('fobt', 'fit_dna') or e.category = 'laboratory'))
            or (e.event_kind in ('procedure', 'claim_line') and coalesce(e.status, 'completed') = 'completed')
        )
        and (
            (e.value_set = 'fobt' and e.end_date >= mp.period_start)
            or (e.value_set = 'fit_dna' and e.end_date >= cast(mp.period_start - interval 2 year as date))
            or (e.value_set in ('flexible_sigmoidoscopy', 'ct_colonography')
                and e.end_date >= cast(mp.period_start - interval 4 year as date))
            or (e.value_set = 'colonoscopy' and e.end_date >= cast(mp.period_start - interval 9 year as date))
        )
    group by e.person_id
)
select
    p.person_id,
    'CMS130' as measure_id,
    p.age_at_period_end,
    coalesce(c.reason, {{ quality_shared_exclusion_reason('p.age_at_period_end') }}) as exclusion_reason,
    s.person_id is not null as numerator_met,
    s.screening_date as evidence_date,
    s.test as evidence_value,
    s.code as evidence_code,
    s.source_system as evidence_source
from population as p
left join colorectal as c on p.person_id = c.person_id
left join screenings as s on p.person_id = s.person_id
left join {{ ref('int__quality_shared_exclusions') }} as sx on p.person_id = sx.person_id
