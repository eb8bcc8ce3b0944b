-- grain: one row per measure x period x location. A person's location is the organization
-- (encounter service provider) of the visit that attributes them for the measure
-- (int__quality_attribution: their latest qualifying visit in the period); 'unknown' when that
-- visit names none, so the rows of a measure sum to quality_measure_summary.
-- Counts and rate as in quality_measure_summary_by_provider.
select
    r.measure_id,
    r.period_start,
    r.period_end,
    coalesce(a.organization_id, 'unknown') as location_id,
    max(f.organization_name) as location_name,
    {{ quality_rates() }}
from {{ ref('quality_measure_results') }} as r
left join {{ ref('int__quality_attribution') }} as a
    on r.person_id = a.person_id and r.measure_id = a.measure_id
left join {{ ref('stg__readmission_facility') }} as f on a.organization_id = f.organization_id
group by r.measure_id, r.period_start, r.period_end, coalesce(a.organization_id, 'unknown')
