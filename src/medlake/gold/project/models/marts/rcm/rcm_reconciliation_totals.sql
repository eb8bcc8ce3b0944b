-- grain: one row: rcm_reconciliation summed (billed = paid + adjustments + patient
-- responsibility + outstanding, to the cent), what it leaves out (voided claims, remittances
-- for claims not on file) and the payments side (claim payments, PLB adjustments, deposits).
with r as (
    select
        count(*) as claims,
        sum(billed) as billed,
        sum(paid) as paid,
        sum(contractual_adjustments) as contractual_adjustments,
        sum(other_adjustments) as other_adjustments,
        sum(adjustments) as adjustments,
        sum(patient_responsibility) as patient_responsibility,
        sum(outstanding) as outstanding,
        count(*) filter (where not balanced) as unbalanced_claims,
        sum(payments_posted) as payments_posted
    from {{ ref('rcm_reconciliation') }}
),
left_out as (
    select
        count(*) filter (where on_file and is_voided) as voided_claims,
        sum(billed) filter (where on_file and is_voided) as voided_billed,
        count(*) filter (where not on_file and eob_count > 0) as unmatched_claims,
        sum(paid) filter (where not on_file and eob_count > 0) as unmatched_paid
    from {{ ref('int__rcm_claim_states') }}
),
payments as (
    select
        count(*) filter (where row_type = 'payment') as payments,
        sum(amount) filter (where row_type = 'payment') as deposits,
        sum(amount) filter (where row_type = 'detail' and claim_id is not null) as claim_payments,
        sum(amount) filter (where row_type = 'detail' and claim_id is null) as plb_adjustments
    from {{ ref('stg__payment') }}
),
totals as (
    select
        r.claims,
        {{ rcm_money('r.billed') }} as billed,
        {{ rcm_money('r.paid') }} as paid,
        {{ rcm_money('r.contractual_adjustments') }} as contractual_adjustments,
        {{ rcm_money('r.other_adjustments') }} as other_adjustments,
        {{ rcm_money('r.adjustments') }} as adjustments,
        {{ rcm_money('r.patient_responsibility') }} as patient_responsibility,
        {{ rcm_money('r.outstanding') }} as outstanding,
        r.unbalanced_claims,
        {{ rcm_money('r.payments_posted') }} as payments_posted,
        coalesce(l.voided_claims, 0) as voided_claims,
        {{ rcm_money('l.voided_billed') }} as voided_billed,
        coalesce(l.unmatched_claims, 0) as unmatched_claims,
        {{ rcm_money('l.unmatched_paid') }} as unmatched_paid,
        coalesce(p.payments, 0) as payments,
        {{ rcm_money('p.claim_payments') }} as claim_payments,
        {{ rcm_money('p.plb_adjustments') }} as plb_adjustments,
        {{ rcm_money('p.deposits') }} as deposits
    from r, left_out as l, payments as p
)
select
    claims,
    billed,
    paid,
    contractual_adjustments,
    other_adjustments,
    adjustments,
    patient_responsibility,
    outstanding,
    cast(billed - paid - adjustments - patient_responsibility - outstanding as decimal(18, 2)) as difference,
    billed = paid + adjustments + patient_responsibility + outstanding as balanced,
    unbalanced_claims,
    payments_posted,
    voided_claims,
    voided_billed,
    unmatched_claims,
    unmatched_paid,
    payments,
    claim_payments,
    plb_adjustments,
    deposits,
    deposits = claim_payments - plb_adjustments as deposits_balanced
from totals
