-- grain: one row per person x measure of quality_measure_results: the visit that attributes
-- the person for that measure, i.e. the latest qualifying visit in the period (CMS2: the
-- latest depression_screen_visit; every other measure: int__quality_visits), its practitioner
-- and organization (encounter service provider; NULL for claim-only visits or when the
-- encounter names none), and the payer of the person's coverage active on that visit's day
-- (the one starting last when several are; NULL when none). NULLs become 'unknown' in the
-- by-location / by-payer summaries.
with cms2_visits as (
    select e.person_id, e.start_date, enc.practitioner_id, enc.service_provider_id
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    left join {{ ref('stg__encounter') }} as enc
        on e.event_kind = 'encounter' and e.event_id = enc.encounter_id
    where e.value_set = 'depression_screen_visit'
        and ((e.event_kind = 'encounter' and e.status = 'finished') or e.event_kind = 'claim_line')
        and e.start_date >= mp.period_start
        and e.end_date <= mp.period_end
),
cms2 as (
    select
        person_id,
        'CMS2' as measure_id,
        max(start_date) as visit_date,
        arg_max(practitioner_id, (start_date, service_provider_id, practitioner_id)) as practitioner_id,
        arg_max(service_provider_id, (start_date, service_provider_id, practitioner_id)) as organization_id
    from cms2_visits
    group by person_id
),
visit as (
    select
        r.person_id,
        r.measure_id,
        coalesce(c.visit_date, v.last_visit_date) as visit_date,
        case when r.measure_id = 'CMS2' then c.practitioner_id else v.last_visit_practitioner_id end
            as practitioner_id,
        case when r.measure_id = 'CMS2' then c.organization_id else v.last_visit_organization_id end
            as organization_id
    from (select distinct person_id, measure_id from {{ ref('quality_measure_results') }}) as r
    left join cms2 as c on r.person_id = c.person_id and r.measure_id = c.measure_id
    left join {{ ref('int__quality_visits') }} as v on r.person_id = v.person_id
),
payer as (
    select
        vi.person_id,
        vi.measure_id,
        arg_max(cv.payor_id, (cv.period_start_date, cv.payor_id, cv.payor_name)) filter (where cv.period_start_date is not null) as payer_id,
        arg_max(cv.payor_name, (cv.period_start_date, cv.payor_id, cv.payor_name)) filter (where cv.period_start_date is not null) as payer_name
    from visit as vi
    inner join {{ ref('int__person_xref') }} as x on vi.person_id = x.person_id
    inner join {{ ref('stg__readmission_coverage') }} as cv on x.patient_id = cv.patient_id
    where cv.payor_id is not null
        and coalesce(cv.period_start_date, date '1900-01-01') <= vi.visit_date
        and coalesce(cv.period_end_date, date '9999-12-31') >= vi.visit_date
    group by vi.person_id, vi.measure_id
)
select
    vi.person_id,
    vi.measure_id,
    vi.visit_date,
    vi.practitioner_id,
    vi.organization_id,
    py.payer_id,
    py.payer_name
from visit as vi
left join payer as py on vi.person_id = py.person_id and vi.measure_id = py.measure_id
