-- grain: one row per observation or observation component (see the flat view)
select
    id as observation_id,
    parent_id as parent_observation_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    status,
    category,
    code,
    code_system,
    code_display,
    source_code,
    source_code_system,
    effective_at,
    value_number,
    value_unit,
    value_string,
    value_code,
    value_display
from {{ source('views', 'observation') }}
