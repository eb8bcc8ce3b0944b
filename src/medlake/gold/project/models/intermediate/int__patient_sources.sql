-- grain: one row per (patient, source system) that contributed the patient or any resource
-- about them (encounters, conditions, observations, medication requests and dispenses,
-- procedures, immunizations). The source name stands in when the system URI is missing.
with contributions as (
    select patient_id, coalesce(source_system, source) as source_system from {{ ref('stg__patient') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__encounter') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__condition') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__observation') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__medication_request') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__medication_dispense') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__procedure') }}
    union all select patient_id, coalesce(source_system, source) from {{ ref('stg__immunization') }}
)
select distinct patient_id, source_system
from contributions
where patient_id is not null and source_system is not null
