-- grain: one row (overall). Index stays with complete 30-day follow-up (readmission_stays);
-- period_start / period_end = the first and last discharge date among them (NULL when none).
-- readmissions_30d counts unplanned readmissions (the CMS outcome); planned_readmissions the
-- index stays whose first readmission was planned. readmission_rate = readmissions_30d /
-- index_stays, NULL when there are no index stays.
select
    {{ readmission_rates() }}
from {{ ref('readmission_stays') }}
where has_complete_followup
