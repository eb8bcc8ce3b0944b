-- grain: one row per medication event: a request (event_type `request`) or a dispense
-- (`dispense`). ids are unique across both (silver ids include the resource type).
--   is_active: a request with status active; a dispense (completed or no status) handed over
--   on or before as_of_at whose days supply (30 when missing) reaches as_of_at.
select
    r.medication_request_id as medication_event_id,
    'request' as event_type,
    r.patient_id,
    r.encounter_id,
    r.source,
    r.source_system,
    r.status,
    r.code,
    r.code_system,
    r.code_display,
    cast(null as varchar) as ndc,
    r.source_code,
    r.source_code_system,
    r.authored_at as event_at,
    r.quantity,
    r.days_supply,
    cast(null as varchar) as prescription_id,
    coalesce(r.status = 'active', false) as is_active
from {{ ref('stg__medication_request') }} as r
union all
select
    d.medication_dispense_id,
    'dispense',
    d.patient_id,
    d.encounter_id,
    d.source,
    d.source_system,
    d.status,
    d.code,
    d.code_system,
    d.code_display,
    d.ndc,
    d.source_code,
    d.source_code_system,
    d.handed_over_at,
    d.quantity,
    d.days_supply,
    d.prescription_id,
    coalesce(
        coalesce(d.status, 'completed') = 'completed'
        and d.handed_over_at <= a.as_of_at
        and d.handed_over_at + to_days(cast(round(coalesce(d.days_supply, 30)) as integer)) >= a.as_of_at,
        false
    )
from {{ ref('stg__medication_dispense') }} as d
cross join {{ ref('int__as_of') }} as a
