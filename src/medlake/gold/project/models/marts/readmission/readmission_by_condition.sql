-- grain: one row per condition cohort of the principal diagnosis (CHF, AMI, pneumonia, COPD, other), over the index stays with complete 30-day follow-up; same
-- counts and rate as readmission_summary.
select
    condition_cohort,
    {{ readmission_rates() }}
from {{ ref('readmission_stays') }}
where has_complete_followup
group by condition_cohort
