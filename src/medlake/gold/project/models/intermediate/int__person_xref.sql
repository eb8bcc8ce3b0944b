-- grain: one row per silver patient: the enterprise person the master patient index linked it
-- to (views.person_xref, from the golden Person resources of the identity stage). A patient
-- no Person links yet is its own person (person_id = patient_id).
select
    patient_id,
    person_id,
    assurance
from {{ ref('stg__person_xref') }}
