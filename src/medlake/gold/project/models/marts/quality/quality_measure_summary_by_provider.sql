-- grain: one row per measure x period x attributed practitioner x organization. A person is
-- attributed to the practitioner and organization (service provider) of their latest
-- qualifying visit in the period (int__quality_attribution; CMS2 counts its own visits);
-- either may be NULL when the encounter does not name one.
-- Counts and rate as in quality_measure_summary.
select
    r.measure_id,
    r.period_start,
    r.period_end,
    a.practitioner_id,
    a.organization_id,
    {{ quality_rates() }}
from {{ ref('quality_measure_results') }} as r
left join {{ ref('int__quality_attribution') }} as a
    on r.person_id = a.person_id and r.measure_id = a.measure_id
group by all
