-- grain: one row per enterprise person (int__person_xref: the master patient index's crosswalk;
-- a patient no golden Person links is its own person). Every fact of all the person's source
-- patients is aggregated; demographics come from the golden record (views.person), else from the
-- patient's own record. Everything "latest" or "in the last 12 months" is measured from as_of_at.
{%- set groups = ['diabetes', 'hypertension', 'chf', 'copd', 'ckd', 'depression', 'asthma'] %}
{%- set measures = ['bp_systolic', 'bp_diastolic', 'heart_rate', 'bmi', 'weight', 'hba1c', 'ldl', 'egfr', 'glucose'] %}
with as_of as (
    select as_of_at from {{ ref('int__as_of') }}
),

problems as (
    select
        x.person_id,
        list_sort(list_distinct(list(coalesce(c.code_display, c.code)))) as active_problems,
        count(distinct coalesce(c.code_system, '') || '|' || c.code) as active_problem_count,
        {%- for g in groups %}
        bool_or(list_contains(c.chronic_condition_groups, '{{ g }}')) as has_{{ g }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int__conditions') }} as c
    inner join {{ ref('int__person_xref') }} as x on c.patient_id = x.patient_id
    where c.is_active
    group by x.person_id
),

latest_per_person as (
    -- int__latest_observations is per patient; of a person's patients the newest value wins
    -- (ties: the lowest observation id)
    select x.person_id, o.*
    from {{ ref('int__latest_observations') }} as o
    inner join {{ ref('int__person_xref') }} as x on o.patient_id = x.patient_id
    qualify row_number() over (
        partition by x.person_id, o.measure order by o.effective_at desc nulls last, o.observation_id
    ) = 1
),

latest as (
    select
        person_id,
        {%- for m in measures %}
        max(value_number) filter (where measure = '{{ m }}') as {{ m }}_value,
        max(value_unit) filter (where measure = '{{ m }}') as {{ m }}_unit,
        max(effective_at) filter (where measure = '{{ m }}') as {{ m }}_at,
        max(source_system) filter (where measure = '{{ m }}') as {{ m }}_source_system{{ "," if not loop.last }}
        {%- endfor %}
    from latest_per_person
    group by person_id
),

medications as (
    select
        x.person_id,
        list_sort(list_distinct(list(coalesce(code_display, code)))) as active_medications,
        count(distinct coalesce(code_display, code)) as active_medication_count
    from {{ ref('int__medications') }} as md
    inner join {{ ref('int__person_xref') }} as x on md.patient_id = x.patient_id
    where md.is_active
    group by x.person_id
),

utilization as (
    select
        x.person_id,
        count(*) as encounters_total,
        count(*) filter (where e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as encounters_12m,
        count(*) filter (where e.is_ed_visit and e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as ed_visits_12m,
        count(*) filter (where e.is_inpatient and e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at) as inpatient_stays_12m
    from {{ ref('int__encounters') }} as e
    inner join {{ ref('int__person_xref') }} as x on e.patient_id = x.patient_id
    cross join as_of as a
    group by x.person_id
),

last_encounter as (
    select
        x.person_id,
        e.encounter_id as last_encounter_id,
        e.period_start as last_encounter_at,
        e.class_code as last_encounter_class,
        e.source as last_encounter_source,
        e.source_system as last_encounter_source_system
    from {{ ref('int__encounters') }} as e
    inner join {{ ref('int__person_xref') }} as x on e.patient_id = x.patient_id
    where e.period_start is not null
    qualify row_number() over (partition by x.person_id order by e.period_start desc, e.encounter_id) = 1
),

sources as (
    select
        x.person_id,
        list_sort(list(distinct s.source_system)) as source_systems,
        count(distinct s.source_system) as source_system_count
    from {{ ref('int__patient_sources') }} as s
    inner join {{ ref('int__person_xref') }} as x on s.patient_id = x.patient_id
    group by x.person_id
),

members as (
    -- the person's patients; demographics fall back to the patient with the most complete
    -- record (then the smallest id) when the person has no golden record
    select
        d.person_id,
        list_sort(list(d.patient_id)) as patient_ids,
        count(*) as patient_count,
        list_sort(list(distinct d.source)) as sources,
        arg_min(
            d.patient_id,
            ((d.birth_date is null)::int + (d.family_name is null)::int + (d.gender is null)::int)::varchar
                || d.patient_id
        ) as fallback_patient_id,
        bool_or(coalesce(d.deceased, false)) as deceased,
        max(d.deceased_at) as deceased_at,
        arg_min(d.race, d.patient_id) filter (where d.race is not null) as race,
        arg_min(d.ethnicity, d.patient_id) filter (where d.ethnicity is not null) as ethnicity
    from {{ ref('dim_patient') }} as d
    group by d.person_id
),

demographics as (
    select
        m.*,
        g.person_id is not null as has_golden_record,
        coalesce(g.family_name, f.family_name) as family_name,
        coalesce(g.given_name, f.given_name) as given_name,
        coalesce(g.birth_date, f.birth_date) as birth_date,
        coalesce(g.gender, f.gender) as gender,
        coalesce(g.city, f.city) as city,
        coalesce(g.state, f.state) as state,
        coalesce(g.postal_code, f.postal_code) as postal_code
    from members as m
    left join {{ ref('stg__person') }} as g on m.person_id = g.person_id
    left join {{ ref('dim_patient') }} as f on m.fallback_patient_id = f.patient_id
)

select
    d.person_id,
    d.patient_ids,
    d.patient_count,
    d.sources,
    d.has_golden_record,
    d.family_name,
    d.given_name,
    d.birth_date,
    case
        when d.birth_date is not null
            then date_diff('year', d.birth_date, cast(coalesce(d.deceased_at, a.as_of_at) as date))
                - case
                    when strftime(cast(coalesce(d.deceased_at, a.as_of_at) as date), '%m%d') < strftime(d.birth_date, '%m%d')
                        then 1 else 0
                  end
    end as age_years,
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
from demographics as d
cross join as_of as a
left join problems as pr on d.person_id = pr.person_id
left join latest as l on d.person_id = l.person_id
left join medications as m on d.person_id = m.person_id
left join utilization as u on d.person_id = u.person_id
left join last_encounter as le on d.person_id = le.person_id
left join sources as s on d.person_id = s.person_id
