-- grain: one row per claim_id (CLM01 = CLP01): every claim medlake knows from an 837 (Claim),
-- an 835 (ExplanationOfBenefit) or a 277 (ClaimResponse). When several Claims share a claim_id
-- (two billing systems reusing numbers) the latest created one describes it.
--   on_file          a Claim exists (false: known only from a remittance or a status)
--   payer_*, billing_provider_*, patient_id   from the Claim, else from the latest EOB
--   billed           total charge (CLM02) of the Claim's current version
--   service_date     billablePeriod start, else the first line's service date, else created
--   submitted_date   created date of the first version; last_submitted_date of the latest
--                    (the current Claim's created date when history has none)
--   resubmitted_date, last_resubmitted_date   first / latest replacement (frequency 7)
--   voided_date      first void (frequency 8 or status cancelled); is_voided: the current
--                    version is a void
with claims as (
    select *
    from {{ ref('stg__claim') }}
    qualify row_number() over (
        partition by claim_id order by created_date desc nulls last, claim_resource_id
    ) = 1
),
versions as (
    select
        claim_id,
        min(created_date) as submitted_date,
        max(created_date) as last_submitted_date,
        min(created_date) filter (where frequency = '7') as resubmitted_date,
        max(created_date) filter (where frequency = '7') as last_resubmitted_date,
        min(created_date) filter (where frequency = '8' or status = 'cancelled') as voided_date,
        count(*) as claim_version_count
    from {{ ref('stg__claim_version') }}
    group by claim_id
),
lines as (
    select
        claim_resource_id,
        count(*) as line_count,
        sum(units) as units,
        min(serviced_date) as first_service_date,
        list(distinct product_code order by product_code) filter (where product_code is not null) as procedure_codes
    from {{ ref('stg__claim_line') }}
    group by claim_resource_id
),
latest_eob as (
    select *
    from {{ ref('int__rcm_eob_versions') }}
    qualify row_number() over (
        partition by claim_id order by effective_date desc nulls last, version desc, eob_id
    ) = 1
),
responses as (
    select claim_id, min(patient_id) as patient_id, min(payer_id) as payer_id
    from {{ ref('stg__claim_response_version') }}
    group by claim_id
),
ids as (
    select claim_id from claims
    union
    select claim_id from {{ ref('int__rcm_eob_versions') }} where claim_id is not null
    union
    select claim_id from responses where claim_id is not null
)
select
    ids.claim_id,
    c.claim_resource_id,
    c.claim_resource_id is not null as on_file,
    coalesce(c.patient_id, e.patient_id, r.patient_id) as patient_id,
    coalesce(c.payer_id, e.payer_id, r.payer_id) as payer_id,
    coalesce(c.payer_name, po.name) as payer_name,
    coalesce(c.billing_provider_id, e.payee_id) as billing_provider_id,
    coalesce(c.billing_provider_npi, bo.npi) as billing_provider_npi,
    coalesce(c.billing_provider_name, bo.name) as billing_provider_name,
    c.rendering_provider_id,
    c.rendering_provider_npi,
    c.claim_type,
    c.frequency,
    c.status as claim_status,
    c.total_charge as billed,
    coalesce(c.billable_start, l.first_service_date, c.created_date) as service_date,
    coalesce(v.submitted_date, c.created_date) as submitted_date,
    coalesce(v.last_submitted_date, c.created_date) as last_submitted_date,
    v.resubmitted_date,
    v.last_resubmitted_date,
    v.voided_date,
    coalesce(c.frequency = '8' or c.status = 'cancelled', false) as is_voided,
    coalesce(v.claim_version_count, 0) as claim_version_count,
    coalesce(l.line_count, 0) as line_count,
    coalesce(l.units, 0) as units,
    coalesce(l.procedure_codes, []) as procedure_codes
from ids
left join claims as c on c.claim_id = ids.claim_id
left join versions as v on v.claim_id = ids.claim_id
left join lines as l on l.claim_resource_id = c.claim_resource_id
left join latest_eob as e on e.claim_id = ids.claim_id
left join responses as r on r.claim_id = ids.claim_id
left join {{ ref('stg__rcm_organization') }} as po on po.organization_id = coalesce(c.payer_id, e.payer_id, r.payer_id)
left join {{ ref('stg__rcm_organization') }} as bo on bo.organization_id = coalesce(c.billing_provider_id, e.payee_id)
