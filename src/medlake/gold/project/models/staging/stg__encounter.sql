-- grain: one row per silver encounter
select
    id as encounter_id,
    patient_id,
    source,
    source_system,
    status,
    class_code,
    type_code,
    type_system,
    type_display,
    period_start,
    period_end,
    reason_code,
    reason_system,
    reason_display,
    discharge_disposition,
    service_provider_id,
    practitioner_id
from {{ source('views', 'encounter') }}
