-- grain: one row per medication event — a medication request or a medication dispense
-- (event_type says which).
select
    m.medication_event_id,
    m.event_type,
    x.person_id,
    m.patient_id,
    m.encounter_id,
    m.source,
    m.source_system,
    m.status,
    m.code,
    m.code_system,
    m.code_display,
    m.ndc,
    m.source_code,
    m.source_code_system,
    m.event_at,
    m.quantity,
    m.days_supply,
    m.prescription_id,
    m.is_active
from {{ ref('int__medications') }} as m
left join {{ ref('int__person_xref') }} as x on m.patient_id = x.patient_id
