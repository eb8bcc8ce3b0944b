-- grain: one row per version of each Claim (original, replacements, void), from silver history
select
    id as claim_version_id,
    claim_resource_id,
    version,
    is_current,
    coalesce(claim_id, claim_resource_id) as claim_id,
    payer_claim_number,
    patient_id,
    source,
    status,
    frequency,
    claim_type,
    created as created_date,
    insurer_id as payer_id,
    provider_id as billing_provider_id,
    total_charge,
    line_count
from {{ source('rcm_views', 'claim_version') }}
