-- grain: one row per person x measure x period with an open care gap: in the denominator,
-- not excluded, and not in the numerator (or, for inverse measures such as CMS122, in the
-- numerator). gap_closure says what would close it, e.g. "mammogram by 2025-12-31".
select
    r.person_id,
    r.measure_id,
    r.measure_name,
    r.period_start,
    r.period_end,
    m.gap_closure || ' ' || strftime(r.period_end, '%Y-%m-%d') as gap_closure,
    r.evidence_date as last_evidence_date,
    r.evidence_value as last_evidence_value,
    a.visit_date as last_visit_date,
    a.practitioner_id,
    a.organization_id
from {{ ref('quality_measure_results') }} as r
inner join {{ ref('quality_measures') }} as m on r.measure_id = m.measure_id
left join {{ ref('int__quality_attribution') }} as a
    on r.person_id = a.person_id and r.measure_id = a.measure_id
where r.in_denominator
    and not r.excluded
    and r.in_numerator = m.inverse
