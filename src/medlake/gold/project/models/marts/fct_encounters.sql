-- grain: one row per encounter.
select
    e.encounter_id,
    x.person_id,
    e.patient_id,
    e.source,
    e.source_system,
    e.status,
    e.class_code,
    e.is_ed_visit,
    e.is_inpatient,
    e.type_code,
    e.type_system,
    e.type_display,
    e.period_start,
    e.period_end,
    e.length_of_stay_days,
    e.reason_code,
    e.reason_system,
    e.reason_display,
    e.discharge_disposition,
    e.service_provider_id,
    e.practitioner_id
from {{ ref('int__encounters') }} as e
left join {{ ref('int__person_xref') }} as x on e.patient_id = x.patient_id
