-- grain: one row per denial (an EOB version whose outcome is `denied`, int__rcm_eob_versions)
-- × CAS group × CARC on it: the adjustments of that group and reason summed over claim and
-- line level.
--   denied_date          the version's effective date
--   amount               sum of the CAS amounts
--   has_claim_level      a claim-level CAS carries it
--   line_procedure_codes the procedure codes (SVC01) of the lines that carry it
select
    d.claim_id,
    a.group_code,
    a.reason_code,
    d.eob_version_id,
    min(d.effective_date) as denied_date,
    min(d.version) as version,
    cast(sum(a.amount) as decimal(18, 2)) as amount,
    bool_or(a.level = 'claim') as has_claim_level,
    coalesce(
        list(distinct a.product_code order by a.product_code) filter (where a.product_code is not null),
        []
    ) as line_procedure_codes
from {{ ref('int__rcm_eob_versions') }} as d
join {{ ref('stg__eob_adjustment') }} as a on a.eob_version_id = d.eob_version_id
where d.outcome = 'denied' and d.claim_id is not null
group by d.claim_id, a.group_code, a.reason_code, d.eob_version_id
