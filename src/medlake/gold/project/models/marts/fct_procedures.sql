-- grain: one row per procedure.
select
    p.procedure_id,
    x.person_id,
    p.patient_id,
    p.encounter_id,
    p.source,
    p.source_system,
    p.status,
    p.code,
    p.code_system,
    p.code_display,
    p.source_code,
    p.source_code_system,
    p.performed_at,
    p.performed_end_at
from {{ ref('stg__procedure') }} as p
left join {{ ref('int__person_xref') }} as x on p.patient_id = x.patient_id
