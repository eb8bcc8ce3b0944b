-- grain: one row per silver medication request
select
    id as medication_request_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    status,
    intent,
    code,
    code_system,
    code_display,
    source_code,
    source_code_system,
    authored_at,
    quantity,
    days_supply,
    requester_id
from {{ source('views', 'medication_request') }}
