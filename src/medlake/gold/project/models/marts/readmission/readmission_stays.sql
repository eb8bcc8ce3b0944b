-- grain: one row per index stay: an inpatient stay (transfers chained, int__readmission_stays)
-- whose person was alive at discharge and who was not discharged against medical advice.
-- Its readmission is the person's next stay when it starts 1–30 days after this discharge
-- (the day after discharge is day 1; day 30 counts, day 31 does not). Only that first
-- readmission is judged: when it is planned, the index stay has no unplanned readmission
-- (CMS). has_complete_followup: the 30 days after discharge end on or before the data's as-of
-- date, so a readmission could have been seen; only those stays count in the summaries.
with stays as (
    select * from {{ ref('int__readmission_stays') }}
),

sequenced as (
    select
        *,
        lead(stay_id) over w as next_stay_id,
        lead(admit_date) over w as next_admit_date,
        lead(planned_reason) over w as next_planned_reason
    from stays
    window w as (partition by person_id order by admit_at, stay_id)
),

coverages as (
    select coalesce(x.person_id, c.patient_id) as person_id, c.*
    from {{ ref('stg__readmission_coverage') }} as c
    left join {{ ref('int__person_xref') }} as x on c.patient_id = x.patient_id
),

payers as (
    select
        s.stay_id,
        c.payor_id,
        c.payor_name,
        row_number() over (
            partition by s.stay_id order by c.period_start_date desc nulls last, c.coverage_id
        ) as pick
    from stays as s
    join coverages as c
        on s.person_id = c.person_id
        and coalesce(c.period_start_date <= s.admit_date, true)
        and coalesce(c.period_end_date >= s.admit_date, true)
),

as_of as (
    select cast(as_of_at as date) as as_of_date from {{ ref('int__as_of') }}
)

select
    s.stay_id,
    s.person_id,
    s.patient_id,
    s.encounter_ids,
    s.encounter_count,
    s.facility_id,
    f.organization_name as facility_name,
    p.payor_id as payer_id,
    p.payor_name as payer_name,
    s.principal_dx_code,
    s.condition_cohort,
    s.admit_at,
    s.discharge_at,
    s.admit_date,
    s.discharge_date,
    s.los_days,
    s.discharge_disposition,
    coalesce(date_diff('day', s.discharge_date, s.next_admit_date) <= 30, false) as readmitted_30d,
    case when date_diff('day', s.discharge_date, s.next_admit_date) <= 30
        then s.next_stay_id end as readmission_stay_id,
    case when date_diff('day', s.discharge_date, s.next_admit_date) <= 30
        then date_diff('day', s.discharge_date, s.next_admit_date) end as days_to_readmission,
    coalesce(
        date_diff('day', s.discharge_date, s.next_admit_date) <= 30
        and s.next_planned_reason is not null,
        false
    ) as readmission_planned,
    case when date_diff('day', s.discharge_date, s.next_admit_date) <= 30
        then s.next_planned_reason end as readmission_planned_reason,
    coalesce(
        date_diff('day', s.discharge_date, s.next_admit_date) <= 30
        and s.next_planned_reason is null,
        false
    ) as unplanned_readmission_30d,
    s.discharge_date + 30 <= a.as_of_date as has_complete_followup
from sequenced as s
cross join as_of as a
left join payers as p on s.stay_id = p.stay_id and p.pick = 1
left join {{ ref('stg__readmission_facility') }} as f on s.facility_id = f.organization_id
where not s.died_by_discharge
    and not s.left_against_advice
