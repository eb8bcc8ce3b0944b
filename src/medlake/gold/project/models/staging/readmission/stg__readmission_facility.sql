-- grain: one row per silver Organization: the name a facility is reported under
select
    id as organization_id,
    name as organization_name
from {{ source('readmission_views', 'organization') }}
