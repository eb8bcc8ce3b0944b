-- grain: one row per discharging facility (facility_id, 'unknown' when the stay names none), over the index stays with complete 30-day follow-up; same
-- counts and rate as readmission_summary.
select
    coalesce(facility_id, 'unknown') as facility_id,
    max(facility_name) as facility_name,
    {{ readmission_rates() }}
from {{ ref('readmission_stays') }}
where has_complete_followup
group by coalesce(facility_id, 'unknown')
