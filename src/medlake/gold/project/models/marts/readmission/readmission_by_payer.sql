-- grain: one row per payer of the coverage active at admission (payer_id, 'unknown' when
-- none), over the index stays with complete 30-day follow-up; same
-- counts and rate as readmission_summary.
select
    coalesce(payer_id, 'unknown') as payer_id,
    max(payer_name) as payer_name,
    min(discharge_date) as period_start,
    max(discharge_date) as period_end,
    count(*) as index_stays,
    count(*) filter (where unplanned_readmission_30d) as readmissions_30d,
    cast(count(*) filter (where unplanned_readmission_30d) as double)
        / nullif(count(*), 0) as readmission_rate,
    count(*) filter (where readmission_planned) as planned_readmissions
from {{ ref('readmission_stays') }}
where has_complete_followup
group by coalesce(payer_id, 'unknown')
