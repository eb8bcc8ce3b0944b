-- grain: one row per (patient, measure): the latest usable value of each key vital or lab.
-- Usable: a numeric value and a status other than entered-in-error / cancelled. Ties on time
-- go to the lowest observation id, so the result is deterministic.
select
    patient_id,
    measure,
    value_number,
    value_unit,
    effective_at,
    source,
    source_system,
    observation_id
from {{ ref('int__observations') }}
where measure is not null
    and patient_id is not null
    and value_number is not null
    and coalesce(status, '') not in ('entered-in-error', 'cancelled')
qualify row_number() over (
    partition by patient_id, measure order by effective_at desc nulls last, observation_id
) = 1
