-- grain: one row per silver Claim (current version), with the billing provider's NPI and name
-- and the payer's name from the organization / practitioner views. claim_id is CLM01 (the
-- claim's silver id when the identifier is missing). rendering_provider_id is the performing
-- care-team member, else the attending one (an 837I names its attending, not a rendering).
select
    c.id as claim_resource_id,
    coalesce(c.claim_id, c.id) as claim_id,
    c.payer_claim_number,
    c.patient_id,
    c.source,
    c.source_system,
    c.version as claim_version,
    c.status,
    c.frequency,
    c.claim_type,
    c.created as created_date,
    c.billable_start,
    c.billable_end,
    c.provider_type as billing_provider_type,
    c.provider_id as billing_provider_id,
    coalesce(c.provider_npi, bo.npi, bp.npi) as billing_provider_npi,
    coalesce(bo.name, nullif(concat_ws(' ', bp.given_name, bp.family_name), '')) as billing_provider_name,
    coalesce(c.rendering_provider_id, c.attending_provider_id) as rendering_provider_id,
    rp.npi as rendering_provider_npi,
    c.referring_provider_id,
    c.attending_provider_id,
    c.insurer_id as payer_id,
    coalesce(py.name, c.payer_name) as payer_name,
    c.payer_identifier,
    c.coverage_id,
    c.facility_id,
    c.total_charge,
    c.principal_diagnosis_code,
    c.principal_diagnosis_system,
    c.diagnosis_count,
    c.line_count
from {{ source('rcm_views', 'claim') }} as c
left join {{ source('rcm_views', 'organization') }} as bo
    on c.provider_type = 'Organization' and bo.id = c.provider_id
left join {{ source('rcm_views', 'practitioner') }} as bp
    on c.provider_type = 'Practitioner' and bp.id = c.provider_id
left join {{ source('rcm_views', 'practitioner') }} as rp
    on rp.id = coalesce(c.rendering_provider_id, c.attending_provider_id)
left join {{ source('rcm_views', 'organization') }} as py
    on py.id = c.insurer_id
