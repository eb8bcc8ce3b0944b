-- grain: one row per person in the CMS2v13 initial population (Preventive Care and Screening:
-- Screening for Depression and Follow-Up Plan): age >= 12 in whole years at the START of the
-- measurement period, and a qualifying visit: an encounter (status finished) or claim line in
-- value set depression_screen_visit, wholly within the period by day.
-- numerator_met: the most recent screening (status final, with a result) done on the day of a
-- qualifying visit or up to 14 days before it, with an age-appropriate tool (seed
-- quality_depression_tools, age at period start), is negative; or it is positive and a
-- follow-up (value set depression_follow_up: referral, medication, intervention; user-supplied)
-- starts from that visit's first day to 2 days after its last day, within the period. Two
-- screens on the most recent day: a positive one decides. A claim-line / procedure code of
-- depression_screen_met_gcode (HCPCS G8431, G8510) on a qualifying visit's day also meets it.
-- Evidence: the most recent screen's day, 'PHQ-9 14 positive, follow-up 2025-06-12' and its code.
-- exclusion_reason: bipolar disorder (F31) starting before the latest qualifying visit day; a
-- documented reason for not screening (depression_screen_exception, HCPCS G8433) on a visit day
-- when no screen counted (a denominator exception, reported as an exclusion).
with visits as (
    select distinct e.person_id, e.event_id, e.start_date, e.end_date
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    where e.value_set = 'depression_screen_visit'
        and ((e.event_kind = 'encounter' and e.status = 'finished') or e.event_kind = 'claim_line')
        and e.start_date >= mp.period_start
        and e.end_date <= mp.period_end
),
population as (
    select
        q.person_id,
        q.age_at_period_end,
        {{ quality_age('q.birth_date', 'mp.period_start') }} as age_at_start,
        (select max(v.start_date) from visits as v where v.person_id = q.person_id) as last_visit_date
    from {{ ref('int__quality_person') }} as q
    cross join {{ ref('int__quality_period') }} as mp
    where q.birth_date is not null
        and {{ quality_age('q.birth_date', 'mp.period_start') }} >= 12
        and exists (select 1 from visits as v where v.person_id = q.person_id)
),
coded_results as (
    select value_set, code
    from {{ ref('int__quality_value_sets') }}
    where value_set in ('depression_screen_positive', 'depression_screen_negative')
),
screens as (
    select distinct
        e.person_id,
        e.start_date as screen_date,
        t.tool,
        e.code,
        e.value_number,
        e.source_system,
        case
            when t.positive_at_or_above is not null then e.value_number >= t.positive_at_or_above
            when bool_or(cr.value_set = 'depression_screen_positive') over (partition by e.event_id) then true
            when bool_or(cr.value_set = 'depression_screen_negative') over (partition by e.event_id) then false
        end as positive
    from {{ ref('int__quality_events') }} as e
    inner join population as p on e.person_id = p.person_id
    inner join {{ ref('quality_depression_tools') }} as t on upper(trim(e.code)) = t.code
    left join {{ ref('stg__observation') }} as o on e.event_id = o.observation_id
    left join coded_results as cr on {{ quality_code('o.value_code') }} = cr.code
    where e.value_set = 'depression_screening' and e.event_kind = 'observation'
        and e.status = 'final'
        and p.age_at_start between t.min_age and coalesce(t.max_age, 999)
),
counted as (
    -- screens with a result, paired with every qualifying visit they may serve
    select s.*, v.start_date as visit_start, v.end_date as visit_end
    from screens as s
    inner join visits as v on s.person_id = v.person_id
        and s.screen_date between v.start_date - 14 and v.start_date
    where s.positive is not null
),
last_screen as (
    select
        person_id,
        screen_date,
        bool_or(positive) as positive,
        arg_max(tool, (positive::int * 1000000 + coalesce(value_number, 0), tool, code, value_number, source_system)) as tool,
        arg_max(code, (positive::int * 1000000 + coalesce(value_number, 0), tool, code, value_number, source_system)) as code,
        arg_max(value_number, (positive::int * 1000000 + coalesce(value_number, 0), tool, code, value_number, source_system)) as value_number,
        arg_max(source_system, (positive::int * 1000000 + coalesce(value_number, 0), tool, code, value_number, source_system)) as source_system
    from counted
    where (person_id, screen_date) in (select person_id, max(screen_date) from counted group by person_id)
    group by person_id, screen_date
),
follow_up as (
    select l.person_id, min(e.start_date) as follow_up_date
    from last_screen as l
    inner join counted as c on l.person_id = c.person_id and l.screen_date = c.screen_date
    inner join {{ ref('int__quality_events') }} as e on e.person_id = l.person_id
    cross join {{ ref('int__quality_period') }} as mp
    where e.value_set = 'depression_follow_up'
        and e.start_date between c.visit_start and c.visit_end + 2
        and e.start_date <= mp.period_end
        and coalesce(e.status, '') not in ('cancelled', 'entered-in-error', 'not-done', 'revoked', 'stopped')
    group by l.person_id
),
visit_day_codes as (
    select
        e.person_id,
        max(e.start_date) filter (where e.value_set = 'depression_screen_met_gcode') as met_date,
        arg_max(e.code, (e.start_date, e.code, e.source_system)) filter (where e.value_set = 'depression_screen_met_gcode') as met_code,
        arg_max(e.source_system, (e.start_date, e.code, e.source_system)) filter (where e.value_set = 'depression_screen_met_gcode')
            as met_source,
        bool_or(e.value_set = 'depression_screen_exception') as exception
    from {{ ref('int__quality_events') }} as e
    inner join visits as v on e.person_id = v.person_id
        and e.start_date between v.start_date and v.end_date
    where e.value_set in ('depression_screen_met_gcode', 'depression_screen_exception')
        and e.event_kind in ('claim_line', 'procedure', 'observation')
    group by e.person_id
),
bipolar as (
    select distinct e.person_id
    from {{ ref('int__quality_events') }} as e
    inner join population as p on e.person_id = p.person_id
    where e.value_set = 'bipolar_disorder' and e.event_kind = 'condition'
        and coalesce(e.start_date, date '1900-01-01') < p.last_visit_date
),
decided as (
    select
        p.person_id,
        p.age_at_period_end,
        b.person_id is not null as bipolar,
        coalesce(g.exception, false) and l.person_id is null as exception,
        (l.person_id is not null and (not l.positive or f.follow_up_date is not null))
            or g.met_date is not null as numerator_met,
        l.person_id is not null as screened,
        l.screen_date,
        l.positive,
        l.tool,
        l.code,
        l.value_number,
        l.source_system,
        f.follow_up_date,
        g.met_date,
        g.met_code,
        g.met_source
    from population as p
    left join last_screen as l on p.person_id = l.person_id
    left join follow_up as f on p.person_id = f.person_id
    left join visit_day_codes as g on p.person_id = g.person_id
    left join bipolar as b on p.person_id = b.person_id
)
select
    person_id,
    'CMS2' as measure_id,
    age_at_period_end,
    case
        when bipolar then 'bipolar disorder diagnosed before the qualifying visit'
        when exception and not numerator_met then 'denominator exception: documented reason for not screening'
    end as exclusion_reason,
    numerator_met,
    case when screened then screen_date else met_date end as evidence_date,
    case
        when screened then
            tool || coalesce(' ' || {{ quality_number_text('value_number') }}, '')
            || case
                when not positive then ' negative'
                when follow_up_date is not null
                    then ' positive, follow-up ' || strftime(follow_up_date, '%Y-%m-%d')
                else ' positive, no follow-up'
            end
        when met_code is not null then met_code
    end as evidence_value,
    case when screened then code else met_code end as evidence_code,
    case when screened then source_system else met_source end as evidence_source
from decided
