{#- The counts and rate every readmission rollup reports, over the index stays of
    readmission_stays it is grouped by: period (first and last discharge date), index stays,
    unplanned 30-day readmissions, their rate (NULL without stays) and planned readmissions. -#}
{% macro readmission_rates() %}
    min(discharge_date) as period_start,
    max(discharge_date) as period_end,
    count(*) as index_stays,
    count(*) filter (where unplanned_readmission_30d) as readmissions_30d,
    cast(count(*) filter (where unplanned_readmission_30d) as double)
        / nullif(count(*), 0) as readmission_rate,
    count(*) filter (where readmission_planned) as planned_readmissions
{% endmacro %}
