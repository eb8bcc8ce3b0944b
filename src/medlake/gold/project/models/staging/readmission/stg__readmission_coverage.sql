-- grain: one row per silver Coverage: the payer and the period it covers
select
    id as coverage_id,
    patient_id,
    status,
    payor_id,
    payor_name,
    cast(period_start as date) as period_start_date,
    cast(period_end as date) as period_end_date
from {{ source('readmission_views', 'coverage') }}
where coalesce(status, 'active') not in ('cancelled', 'entered-in-error')
