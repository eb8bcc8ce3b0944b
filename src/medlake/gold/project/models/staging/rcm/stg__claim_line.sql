-- grain: one row per service line (Claim.item) of the current version of each Claim
select
    id as claim_line_id,
    claim_resource_id,
    coalesce(claim_id, claim_resource_id) as claim_id,
    patient_id,
    source,
    sequence as line_sequence,
    product_code,
    product_system,
    modifiers,
    revenue_code,
    serviced_date,
    serviced_end,
    units,
    charge,
    place_of_service,
    diagnosis_pointers,
    rendering_provider_id
from {{ source('rcm_views', 'claim_line') }}
