-- grain: one row per observation and per observation component (component rows carry
-- parent_observation_id; a BP panel gives the panel row plus systolic and diastolic rows).
select
    o.observation_id,
    o.parent_observation_id,
    x.person_id,
    o.patient_id,
    o.encounter_id,
    o.source,
    o.source_system,
    o.status,
    o.category,
    o.code,
    o.code_system,
    o.code_display,
    o.source_code,
    o.source_code_system,
    o.measure,
    o.effective_at,
    o.value_number,
    o.value_unit,
    o.value_string,
    o.value_code,
    o.value_display
from {{ ref('int__observations') }} as o
left join {{ ref('int__person_xref') }} as x on o.patient_id = x.patient_id
