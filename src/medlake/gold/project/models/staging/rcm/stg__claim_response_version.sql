-- grain: one row per version of each ClaimResponse (each 277 claim status), from silver history
select
    id as claim_response_version_id,
    claim_response_id,
    version,
    is_current,
    claim_id,
    patient_id,
    source,
    status,
    outcome,
    disposition,
    status_category,
    status_code,
    created as created_date,
    insurer_id as payer_id
from {{ source('rcm_views', 'claim_response_version') }}
