-- grain: one row per version of each ExplanationOfBenefit (each 835 CLP stored for payer +
-- CLP01: original, reversal, correction …), from silver history
select
    id as eob_version_id,
    eob_id,
    version,
    is_current,
    claim_id,
    payer_claim_number,
    patient_id,
    source,
    status,
    claim_status_code,
    outcome,
    insurer_id as payer_id,
    provider_id as payee_id,
    created as created_date,
    payment_date,
    charge,
    paid,
    patient_responsibility
from {{ source('rcm_views', 'eob_version') }}
