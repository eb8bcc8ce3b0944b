-- grain: one row per silver patient (person_id = patient_id until identity resolution).
-- Everything "latest" or "in the last 12 months" is measured from as_of_at (int__as_of).
{%- set groups = ['diabetes', 'hypertension', 'chf', 'copd', 'ckd', 'depression', 'asthma'] %}
{%- set measures = ['bp_systolic', 'bp_diastolic', 'heart_rate', 'bmi', 'weight', 'hba1c', 'ldl', 'egfr', 'glucose'] %}
with as_of as (
    select as_of_at from {{ ref('int__as_of') }}
),

problems as (
    select
        c.patient_id,
        list_sort(list_distinct(list(coalesce(c.code_display, c.code)))) as active_problems,
        count(distinct coalesce(c.code_system, '') || '|' || c.code) as active_problem_count,
        {%- for g in groups %}
        bool_or(list_contains(c.chronic_condition_groups, '{{ g }}')) as has_{{ g }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int__conditions') }} as c
    where c.is_active
    group by c.patient_id
),

latest as (
    select
        patient_id,
        {%- for m in measures %}
        max(value_number) filter (where measure = '{{ m }}') as {{ m }}_value,
        max(value_unit) filter (where measure = '{{ m }}') as {{ m }}_unit,
        max(effective_at) filter (where measure = '{{ m }}') as {{ m }}_at,
        max(source_system) filter (where measure = '{{ m }}') as {{ m }}_source_system{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int__latest_observations') }}
    group by patient_id
),

medications as (
    select
        patient_id,
        list_sort(list_distinct(list(coalesce(code_display, code)))) as active_medications,
        count(distinct coalesce(code_display, code)) as active_medication_count
    from {{ ref('int__medications') }}
    where is_active
    group by patient_id
),

utilization as (
    select
        e.patient_id,
        count(*) as encounters_total,
        count(*) filter (where e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as encounters_12m,
        count(*) filter (where e.is_ed_visit and e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as ed_visits_12m,
        count(*) filter (where e.is_inpatient and e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as inpatient_stays_12m
    from {{ ref('int__encounters') }} as e
    cross join as_of as a
    group by e.patient_id
),

last_encounter as (
    select
        patient_id,
        encounter_id as last_encounter_id,
        period_start as last_encounter_at,
        class_code as last_encounter_class,
        source as last_encounter_source,
        source_system as last_encounter_source_system
    from {{ ref('int__encounters') }}
    where period_start is not null
    qualify row_number() over (partition by patient_id order by period_start desc, encounter_id) = 1
),

sources as (
    select
        patient_id,
        list_sort(list(source_system)) as source_systems,
        count(*) as source_system_count
    from {{ ref('int__patient_sources') }}
    group by patient_id
)

select
    d.person_id,
    d.patient_id,
    d.source,
    d.source_system,
    d.mrn,
    d.family_name,
    d.given_name,
    d.birth_date,
    d.age_years,
    d.gender,
    d.deceased,
    d.deceased_at,
    d.race,
    d.ethnicity,
    d.city,
    d.state,
    d.postal_code,
    coalesce(pr.active_problems, []) as active_problems,
    coalesce(pr.active_problem_count, 0) as active_problem_count,
    {%- for g in groups %}
    coalesce(pr.has_{{ g }}, false) as has_{{ g }},
    {%- endfor %}
    {%- for m in measures %}
    l.{{ m }}_value,
    l.{{ m }}_unit,
    l.{{ m }}_at,
    l.{{ m }}_source_system,
    {%- endfor %}
    coalesce(m.active_medications, []) as active_medications,
    coalesce(m.active_medication_count, 0) as active_medication_count,
    le.last_encounter_id,
    le.last_encounter_at,
    le.last_encounter_class,
    le.last_encounter_source,
    le.last_encounter_source_system,
    coalesce(u.encounters_total, 0) as encounters_total,
    coalesce(u.encounters_12m, 0) as encounters_12m,
    coalesce(u.ed_visits_12m, 0) as ed_visits_12m,
    coalesce(u.inpatient_stays_12m, 0) as inpatient_stays_12m,
    coalesce(s.source_systems, []) as source_systems,
    coalesce(s.source_system_count, 0) as source_system_count,
    a.as_of_at
from {{ ref('dim_patient') }} as d
cross join as_of as a
left join problems as pr on d.patient_id = pr.patient_id
left join latest as l on d.patient_id = l.patient_id
left join medications as m on d.patient_id = m.patient_id
left join utilization as u on d.patient_id = u.patient_id
left join last_encounter as le on d.patient_id = le.patient_id
left join sources as s on d.patient_id = s.patient_id
