-- grain: one row per silver medication dispense
select
    id as medication_dispense_id,
    patient_id,
    encounter_id,
    source,
    source_system,
    status,
    code,
    code_system,
    code_display,
    ndc,
    source_code,
    source_code_system,
    handed_over_at,
    quantity,
    days_supply,
    prescription_id
from {{ source('views', 'medication_dispense') }}
