{{ config(materialized='table', schema='gold_staging') }}
-- grain: one row per inpatient stay: inpatient encounters of one person chained into one stay.
-- Chaining (docs/gold.md, "Readmissions"): ordered by admission, an encounter continues the
-- current stay when it starts on or before the latest discharge date so far (same day or
-- overlapping, any facility: an encounter split by the feed, or a same-day transfer), or on the
-- next day at another facility (a transfer). Next day at the same facility is a new stay.
-- The stay's admission is its first encounter's (start, principal diagnosis, priority); its
-- discharge is the encounter that ends last (time, facility, disposition).
-- planned (a documented approximation of the CMS planned readmission algorithm):
--   principal diagnosis Z51.1x (chemotherapy) or Z50.x (rehabilitation), an ICD-10-PCS
--   transplant procedure, or an elective admission (priority EL).
with ordered as (
    select
        *,
        max(discharge_date) over (
            partition by person_id order by period_start, encounter_id
            rows between unbounded preceding and 1 preceding
        ) as prior_discharge_date,
        lag(facility_id) over (partition by person_id order by period_start, encounter_id)
            as prior_facility_id
    from {{ ref('int__readmission_encounters') }}
),

flagged as (
    select
        *,
        case
            when prior_discharge_date is null then 1
            when admit_date <= prior_discharge_date then 0
            when admit_date = prior_discharge_date + 1
                and facility_id is distinct from prior_facility_id then 0
            else 1
        end as starts_stay
    from ordered
),

numbered as (
    select
        *,
        sum(starts_stay) over (
            partition by person_id order by period_start, encounter_id
            rows between unbounded preceding and current row
        ) as stay_number
    from flagged
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_id, stay_number order by period_start, encounter_id
        ) as first_rank,
        row_number() over (
            partition by person_id, stay_number
            order by period_end desc, period_start desc, encounter_id desc
        ) as last_rank
    from numbered
),

stays as (
    select
        person_id,
        stay_number,
        max(case when first_rank = 1 then encounter_id end) as stay_id,
        max(case when first_rank = 1 then patient_id end) as patient_id,
        list(encounter_id order by period_start, encounter_id) as encounter_ids,
        count(*) as encounter_count,
        min(period_start) as admit_at,
        max(period_end) as discharge_at,
        max(case when first_rank = 1 then facility_id end) as admit_facility_id,
        max(case when last_rank = 1 then facility_id end) as facility_id,
        max(case when last_rank = 1 then discharge_disposition end) as discharge_disposition,
        max(case when first_rank = 1 then principal_dx_code end) as principal_dx_code,
        max(case when first_rank = 1 then priority_code end) as priority_code,
        bool_or(has_transplant) as has_transplant
    from ranked
    group by person_id, stay_number
),

deaths as (
    select
        coalesce(x.person_id, p.patient_id) as person_id,
        min(cast(p.deceased_at as date)) as deceased_date
    from {{ ref('stg__patient') }} as p
    left join {{ ref('int__person_xref') }} as x on p.patient_id = x.patient_id
    where p.deceased_at is not null
    group by 1
)

select
    s.stay_id,
    s.person_id,
    s.patient_id,
    s.encounter_ids,
    s.encounter_count,
    s.admit_at,
    s.discharge_at,
    cast(s.admit_at as date) as admit_date,
    cast(s.discharge_at as date) as discharge_date,
    date_diff('day', cast(s.admit_at as date), cast(s.discharge_at as date)) as los_days,
    s.admit_facility_id,
    s.facility_id,
    s.discharge_disposition,
    s.principal_dx_code,
    case
        when s.principal_dx_code like 'I50%' then 'CHF'
        when s.principal_dx_code like 'I21%' then 'AMI'
        when substr(s.principal_dx_code, 1, 3) between 'J12' and 'J18' then 'pneumonia'
        when s.principal_dx_code like 'J44%' then 'COPD'
        else 'other'
    end as condition_cohort,
    s.priority_code,
    coalesce(
        s.discharge_disposition in ('20', '40', '41', '42', 'exp')
        or d.deceased_date <= cast(s.discharge_at as date),
        false
    ) as died_by_discharge,
    coalesce(s.discharge_disposition in ('07', 'aadvice', 'AMA'), false) as left_against_advice,
    case
        when s.principal_dx_code like 'Z511%' then 'chemotherapy'
        when s.principal_dx_code like 'Z50%' then 'rehabilitation'
        when s.has_transplant then 'transplant'
        when s.priority_code = 'EL' then 'elective'
    end as planned_reason
from stays as s
left join deaths as d on s.person_id = d.person_id
