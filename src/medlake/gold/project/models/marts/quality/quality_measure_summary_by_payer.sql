-- grain: one row per measure x period x payer. A person's payer is that of their coverage
-- active on the day of the visit that attributes them for the measure
-- (int__quality_attribution: their latest qualifying visit in the period; the coverage
-- starting last when several are active); 'unknown' when none is, so the rows of a measure sum
-- to quality_measure_summary. Counts and rate as in quality_measure_summary_by_provider.
select
    r.measure_id,
    r.period_start,
    r.period_end,
    coalesce(a.payer_id, 'unknown') as payer_id,
    max(a.payer_name) as payer_name,
    {{ quality_rates() }}
from {{ ref('quality_measure_results') }} as r
left join {{ ref('int__quality_attribution') }} as a
    on r.person_id = a.person_id and r.measure_id = a.measure_id
group by r.measure_id, r.period_start, r.period_end, coalesce(a.payer_id, 'unknown')
