-- grain: one row per silver encounter: its priority (v3 ActPriority code, e.g. EL elective)
select
    id as encounter_id,
    priority_code
from {{ source('readmission_views', 'encounter') }}
