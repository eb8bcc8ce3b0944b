-- grain: one row per silver immunization
select
    id as immunization_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    status,
    vaccine_code,
    vaccine_system,
    vaccine_display,
    source_code,
    source_code_system,
    occurrence_at
from {{ source('views', 'immunization') }}
