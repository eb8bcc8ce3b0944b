-- grain: one row per finished inpatient encounter (int__encounters.is_inpatient) with an end,
-- with what the stay rules need:
--   person_id            the enterprise person (int__person_xref), else the patient
--   facility_id          serviceProvider Organization id
--   principal_dx_code    dot-less ICD-10-CM: the encounter's reasonCode when it is ICD-10-CM,
--                        else the earliest-recorded ICD-10-CM condition that references the
--                        encounter (encounter-diagnosis first)
--   priority_code        Encounter.priority (v3 ActPriority; EL = elective)
--   has_transplant       an ICD-10-PCS procedure in the encounter whose 3rd character is Y
--                        (Medical and Surgical section, root operation Transplantation)
with linked_dx as (
    select
        encounter_id,
        upper(replace(code, '.', '')) as dx_code,
        row_number() over (
            partition by encounter_id
            order by coalesce(category = 'encounter-diagnosis', false) desc,
                coalesce(recorded_at, onset_at) nulls last, condition_id
        ) as dx_rank
    from {{ ref('stg__condition') }}
    where encounter_id is not null
        and code_system = 'http://hl7.org/fhir/sid/icd-10-cm'
        and coalesce(verification_status, '') not in ('refuted', 'entered-in-error')
),

transplants as (
    select distinct encounter_id
    from {{ ref('stg__procedure') }}
    where encounter_id is not null
        and code_system = 'http://www.cms.gov/Medicare/Coding/ICD10'
        and length(code) = 7 and code like '0_Y%'
        and coalesce(status, 'completed') not in ('entered-in-error', 'not-done')
)

select
    e.encounter_id,
    coalesce(x.person_id, e.patient_id) as person_id,
    e.patient_id,
    e.source,
    e.service_provider_id as facility_id,
    e.period_start,
    e.period_end,
    cast(e.period_start as date) as admit_date,
    cast(e.period_end as date) as discharge_date,
    e.discharge_disposition,
    p.priority_code,
    coalesce(
        case when e.reason_system = 'http://hl7.org/fhir/sid/icd-10-cm'
            then upper(replace(e.reason_code, '.', '')) end,
        d.dx_code
    ) as principal_dx_code,
    t.encounter_id is not null as has_transplant
from {{ ref('int__encounters') }} as e
left join {{ ref('int__person_xref') }} as x on e.patient_id = x.patient_id
left join {{ ref('stg__readmission_encounter_priority') }} as p on e.encounter_id = p.encounter_id
left join linked_dx as d on e.encounter_id = d.encounter_id and d.dx_rank = 1
left join transplants as t on e.encounter_id = t.encounter_id
where e.is_inpatient
    and e.period_start is not null
    and e.period_end is not null
    and coalesce(e.status, 'finished') not in ('planned', 'cancelled', 'entered-in-error')
