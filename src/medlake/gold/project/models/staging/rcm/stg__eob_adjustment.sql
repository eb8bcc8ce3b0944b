-- grain: one row per CAS adjustment (claim or line level) of each version of each
-- ExplanationOfBenefit
select
    id as eob_adjustment_id,
    eob_id,
    eob_version_id,
    version,
    is_current,
    claim_id,
    patient_id,
    level,
    line_sequence,
    product_code,
    product_system,
    group_code,
    reason_code,
    amount,
    quantity
from {{ source('rcm_views', 'eob_adjustment') }}
