-- grain: one row per payer of the coverage active at admission (payer_id, 'unknown' when
-- none), over the index stays with complete 30-day follow-up; same
-- counts and rate as readmission_summary.
select
    coalesce(payer_id, 'unknown') as payer_id,
    max(payer_name) as payer_name,
    {{ readmission_rates() }}
from {{ ref('readmission_stays') }}
where has_complete_followup
group by coalesce(payer_id, 'unknown')
