-- grain: one row per calendar year × setting ('inpatient', 'ed') × principal diagnosis, for the
-- 10 most frequent diagnoses of each year and setting (ties broken by code).
--   inpatient: stays (transfers chained) by admission year and the stay's principal diagnosis
--   ed:        ED encounters by start year; diagnosis = reasonCode when ICD-10-CM, else the
--              earliest-recorded ICD-10-CM condition referencing the encounter
-- diagnosis_code is dot-less ICD-10-CM ('unknown' when none is coded); diagnosis_display is
-- the display of a condition or reason with that code, when one has it.
with ed_dx as (
    select
        e.encounter_id,
        e.patient_id,
        cast(e.period_start as date) as event_date,
        coalesce(
            case when e.reason_system = 'http://hl7.org/fhir/sid/icd-10-cm'
                then upper(replace(e.reason_code, '.', '')) end,
            (
                select upper(replace(c.code, '.', ''))
                from {{ ref('stg__condition') }} as c
                where c.encounter_id = e.encounter_id
                    and c.code_system = 'http://hl7.org/fhir/sid/icd-10-cm'
                order by coalesce(c.recorded_at, c.onset_at) nulls last, c.condition_id
                limit 1
            )
        ) as dx_code
    from {{ ref('int__encounters') }} as e
    where e.is_ed_visit and e.period_start is not null
        and coalesce(e.status, 'finished') not in ('planned', 'cancelled', 'entered-in-error')
),

events as (
    select 'inpatient' as setting, year(admit_date) as year, person_id,
        coalesce(principal_dx_code, 'unknown') as diagnosis_code
    from {{ ref('int__readmission_stays') }}
    union all
    select 'ed', year(d.event_date), coalesce(x.person_id, d.patient_id),
        coalesce(d.dx_code, 'unknown')
    from ed_dx as d
    left join {{ ref('int__person_xref') }} as x on d.patient_id = x.patient_id
),

displays as (
    select upper(replace(code, '.', '')) as diagnosis_code, min(code_display) as diagnosis_display
    from {{ ref('stg__condition') }}
    where code_system = 'http://hl7.org/fhir/sid/icd-10-cm' and code_display is not null
    group by 1
),

counted as (
    select
        year,
        setting,
        diagnosis_code,
        count(*) as event_count,
        count(distinct person_id) as person_count
    from events
    group by 1, 2, 3
),

ranked as (
    select
        *,
        row_number() over (
            partition by year, setting order by event_count desc, diagnosis_code
        ) as diagnosis_rank
    from counted
)

select
    r.year,
    r.setting,
    r.diagnosis_rank,
    r.diagnosis_code,
    d.diagnosis_display,
    r.event_count,
    r.person_count
from ranked as r
left join displays as d on r.diagnosis_code = d.diagnosis_code
where r.diagnosis_rank <= 10
