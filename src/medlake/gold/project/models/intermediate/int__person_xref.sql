-- grain: one row per silver patient. The seam for identity resolution: person_id is the
-- patient id for now; the enterprise-person issue replaces this model with the MPI
-- crosswalk (patient_id -> enterprise_person_id) and every mart follows.
select
    patient_id,
    patient_id as person_id
from {{ ref('stg__patient') }}
