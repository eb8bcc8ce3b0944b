-- grain: one row per discharging facility (facility_id, 'unknown' when the stay names none), over the index stays with complete 30-day follow-up; same
-- counts and rate as readmission_summary.
select
    coalesce(facility_id, 'unknown') as facility_id,
    max(facility_name) as facility_name,
    min(discharge_date) as period_start,
    max(discharge_date) as period_end,
    count(*) as index_stays,
    count(*) filter (where unplanned_readmission_30d) as readmissions_30d,
    cast(count(*) filter (where unplanned_readmission_30d) as double)
        / nullif(count(*), 0) as readmission_rate,
    count(*) filter (where readmission_planned) as planned_readmissions
from {{ ref('readmission_stays') }}
where has_complete_followup
group by coalesce(facility_id, 'unknown')
