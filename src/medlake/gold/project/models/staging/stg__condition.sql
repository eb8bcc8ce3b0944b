-- grain: one row per silver condition
select
    id as condition_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    code,
    code_system,
    code_display,
    source_code,
    source_code_system,
    source_code_display,
    clinical_status,
    verification_status,
    category,
    onset_at,
    abatement_at,
    recorded_at
from {{ source('views', 'condition') }}
