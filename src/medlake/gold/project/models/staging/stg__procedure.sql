-- grain: one row per silver procedure
select
    id as procedure_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    status,
    code,
    code_system,
    code_display,
    source_code,
    source_code_system,
    performed_at,
    performed_end_at
from {{ source('views', 'procedure') }}
