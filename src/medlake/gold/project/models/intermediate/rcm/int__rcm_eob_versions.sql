-- grain: one row per ExplanationOfBenefit version (an 835 CLP as stored), with
--   effective_date     its business date: payment date (BPR16), else created
--   is_reversal        CLP02 22 (or status cancelled)
--   outcome            rcm_outcome(): reversed | denied | paid | partially_paid | patient_responsibility
--   is_latest          the version in force for its EOB: latest effective_date, then highest
--                      version (files can arrive out of order; a reversal and its correction
--                      share a date and arrive in file order)
--   adjudication_seq   1, 2, … over the claim's non-reversal versions in date order (1 = the
--                      first adjudication); NULL on reversals
with v as (
    select
        * exclude (outcome),  -- the FHIR outcome (always `complete` for an 835); replaced below
        coalesce(payment_date, created_date) as effective_date,
        coalesce(claim_status_code = '22' or status = 'cancelled', false) as is_reversal
    from {{ ref('stg__eob_version') }}
)
select
    *,
    {{ rcm_outcome('is_reversal', 'claim_status_code', 'paid', 'patient_responsibility') }} as outcome,
    row_number() over (
        partition by eob_id order by effective_date desc nulls last, version desc
    ) = 1 as is_latest,
    case when not is_reversal then row_number() over (
        partition by claim_id, is_reversal order by effective_date nulls last, version, eob_id
    ) end as adjudication_seq
from v
