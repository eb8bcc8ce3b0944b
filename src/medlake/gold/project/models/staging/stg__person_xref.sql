-- grain: one row per silver patient
select
    patient_id,
    person_id,
    assurance,
    source
from {{ source('views', 'person_xref') }}
