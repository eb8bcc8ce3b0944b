-- grain: one row per immunization.
select
    i.immunization_id,
    x.person_id,
    i.patient_id,
    i.encounter_id,
    i.source,
    i.source_system,
    i.status,
    i.vaccine_code,
    i.vaccine_system,
    i.vaccine_display,
    i.source_code,
    i.source_code_system,
    i.occurrence_at
from {{ ref('stg__immunization') }} as i
left join {{ ref('int__person_xref') }} as x on i.patient_id = x.patient_id
