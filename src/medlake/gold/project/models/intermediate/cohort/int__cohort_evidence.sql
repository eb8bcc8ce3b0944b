-- grain: one row per piece of evidence putting a person in a built-in condition cohort.
--   diagnosis  a condition coded in seed chronic_condition_codes (int__condition_groups), not
--              refuted or entered in error; dated by onset, else recorded time. Resolved
--              (inactive) diagnoses count too: the cohorts are "ever diagnosed" chronic cohorts.
--   lab        diabetes: an HbA1c (LOINC 4548-4) of 6.5 % or more (ADA diagnostic threshold);
--              ckd: an eGFR below 60 with another eGFR below 60 at least 90 days earlier
--              (KDIGO chronicity), dated by the later reading.
-- Evidence without a date is kept (event_date NULL); it sorts after dated evidence.
with diagnoses as (
    select
        x.person_id,
        g.condition_group as cohort,
        cast(coalesce(c.onset_at, c.recorded_at) as date) as event_date,
        'diagnosis' as evidence_type,
        c.code as evidence_code,
        c.code_system as evidence_system,
        c.source as evidence_source,
        c.condition_id as evidence_id
    from {{ ref('int__conditions') }} as c
    inner join {{ ref('int__condition_groups') }} as g on c.condition_id = g.condition_id
    inner join {{ ref('int__person_xref') }} as x on c.patient_id = x.patient_id
    where coalesce(c.verification_status not in ('refuted', 'entered-in-error'), true)
),

labs as (
    select x.person_id, o.*
    from {{ ref('int__observations') }} as o
    inner join {{ ref('int__person_xref') }} as x on o.patient_id = x.patient_id
    where o.measure in ('hba1c', 'egfr')
        and o.value_number is not null
        and coalesce(o.status, '') not in ('entered-in-error', 'cancelled')
),

hba1c as (
    select
        person_id,
        'diabetes' as cohort,
        cast(effective_at as date) as event_date,
        'lab' as evidence_type,
        code as evidence_code,
        code_system as evidence_system,
        source as evidence_source,
        observation_id as evidence_id
    from labs
    where measure = 'hba1c' and value_number >= 6.5
),

egfr_low as (
    select * from labs where measure = 'egfr' and value_number < 60 and effective_at is not null
),

egfr as (
    select
        later.person_id,
        'ckd' as cohort,
        cast(later.effective_at as date) as event_date,
        'lab' as evidence_type,
        later.code as evidence_code,
        later.code_system as evidence_system,
        later.source as evidence_source,
        later.observation_id as evidence_id
    from egfr_low as later
    where exists (
        select 1 from egfr_low as earlier
        where earlier.person_id = later.person_id
            and cast(earlier.effective_at as date) <= cast(later.effective_at as date) - interval 90 days
    )
)

select * from diagnoses
union all select * from hba1c
union all select * from egfr
