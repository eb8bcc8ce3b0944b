-- grain: one row per Organization (payers, billing providers and payees of the claims feeds)
select
    id as organization_id,
    npi,
    name
from {{ source('rcm_views', 'organization') }}
