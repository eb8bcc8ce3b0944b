-- grain: one row per period: each calendar month (period_type 'month') and each calendar year
-- (period_type 'year') from the first to the last encounter in the data.
--   persons                  enterprise persons (int__person_xref, else the patient) born on or
--                            before the period's end (or birth date unknown) and not dead
--                            before its start: the population the rates are per 1,000 of
--   ed_visits                ED encounters (class EMER) starting in the period
--   inpatient_admissions     inpatient stays (transfers chained, int__readmission_stays)
--                            admitted in the period
--   *_per_1000               count * 1000 / persons for the period (not annualised)
--   inpatient_discharges, avg_length_of_stay_days   stays discharged in the period and the
--                            mean of their los_days (whole days; NULL when none)
with bounds as (
    select
        date_trunc('month', min(cast(period_start as date))) as first_month,
        date_trunc('month', max(cast(period_start as date))) as last_month
    from {{ ref('int__encounters') }}
),

months as (
    select cast(m as date) as period_start
    from bounds, unnest(generate_series(first_month, last_month, interval 1 month)) as t(m)
    where first_month is not null
),

periods as (
    select 'month' as period_type, period_start,
        cast(period_start + interval 1 month - interval 1 day as date) as period_end
    from months
    union all
    select distinct 'year', cast(date_trunc('year', period_start) as date),
        cast(date_trunc('year', period_start) + interval 1 year - interval 1 day as date)
    from months
),

persons as (
    select
        coalesce(x.person_id, p.patient_id) as person_id,
        min(p.birth_date) as birth_date,
        min(cast(p.deceased_at as date)) as deceased_date
    from {{ ref('stg__patient') }} as p
    left join {{ ref('int__person_xref') }} as x on p.patient_id = x.patient_id
    group by 1
),

population as (
    select pr.period_type, pr.period_start, count(distinct ps.person_id) as persons
    from periods as pr
    join persons as ps
        on coalesce(ps.birth_date <= pr.period_end, true)
        and coalesce(ps.deceased_date >= pr.period_start, true)
    group by 1, 2
),

ed as (
    select pr.period_type, pr.period_start, count(*) as ed_visits
    from periods as pr
    join {{ ref('int__encounters') }} as e
        on e.is_ed_visit
        and cast(e.period_start as date) between pr.period_start and pr.period_end
    where coalesce(e.status, 'finished') not in ('planned', 'cancelled', 'entered-in-error')
    group by 1, 2
),

admissions as (
    select pr.period_type, pr.period_start, count(*) as inpatient_admissions
    from periods as pr
    join {{ ref('int__readmission_stays') }} as s
        on s.admit_date between pr.period_start and pr.period_end
    group by 1, 2
),

discharges as (
    select pr.period_type, pr.period_start,
        count(*) as inpatient_discharges,
        avg(s.los_days) as avg_length_of_stay_days
    from periods as pr
    join {{ ref('int__readmission_stays') }} as s
        on s.discharge_date between pr.period_start and pr.period_end
    group by 1, 2
)

select
    pr.period_type,
    pr.period_start,
    pr.period_end,
    coalesce(pop.persons, 0) as persons,
    coalesce(ed.ed_visits, 0) as ed_visits,
    cast(coalesce(ed.ed_visits, 0) as double) * 1000 / nullif(pop.persons, 0) as ed_visits_per_1000,
    coalesce(a.inpatient_admissions, 0) as inpatient_admissions,
    cast(coalesce(a.inpatient_admissions, 0) as double) * 1000 / nullif(pop.persons, 0)
        as inpatient_admissions_per_1000,
    coalesce(d.inpatient_discharges, 0) as inpatient_discharges,
    d.avg_length_of_stay_days
from periods as pr
left join population as pop on pr.period_type = pop.period_type and pr.period_start = pop.period_start
left join ed on pr.period_type = ed.period_type and pr.period_start = ed.period_start
left join admissions as a on pr.period_type = a.period_type and pr.period_start = a.period_start
left join discharges as d on pr.period_type = d.period_type and pr.period_start = d.period_start
