-- grain: one row per condition.
select
    c.condition_id,
    x.person_id,
    c.patient_id,
    c.encounter_id,
    c.source,
    c.source_system,
    c.code,
    c.code_system,
    c.code_display,
    c.source_code,
    c.source_code_system,
    c.source_code_display,
    c.clinical_status,
    c.verification_status,
    c.category,
    c.is_active,
    c.chronic_condition_groups,
    c.onset_at,
    c.abatement_at,
    c.recorded_at
from {{ ref('int__conditions') }} as c
left join {{ ref('int__person_xref') }} as x on c.patient_id = x.patient_id
