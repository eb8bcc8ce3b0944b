-- grain: one row per metric × dimension × period: the executive dashboard table, read as is.
-- The quality-measure and readmission rows come from gold.quality_measure_summary and
-- gold.readmission_summary when those models are in the project: run_gold passes the names of
-- the project's models in var('gold_models') and this model refs the optional marts only when
-- they are listed (a ref to a model that does not exist would fail the whole project).
{%- set present = var('gold_models', []) or [] %}
with as_of as (
    select as_of_at from {{ ref('int__as_of') }}
),

build as (
    -- the lake's newest record time (not the wall clock: a rebuild of the same lake must give
    -- the same table; wall-clock freshness is a data-quality check at run time)
    select max(last_updated) as built_at from {{ ref('stg__patient') }}
),

people as (
    select 'persons' as metric, cast(null as varchar) as dimension, count(*)::double as value,
        'persons' as unit, 'as_of' as period
    from {{ ref('patient_360') }}
    where not coalesce(deceased, false)
    union all
    select 'source_patient_records', null, count(*)::double, 'records', 'as_of'
    from {{ ref('dim_patient') }}
),

encounters as (
    select
        metric, cast(null as varchar) as dimension, value, 'encounters' as unit, 'last_12_months' as period
    from (
        select
            count(*)::double as encounters_12m,
            (count(*) filter (where e.is_ed_visit))::double as ed_visits_12m,
            (count(*) filter (where e.is_inpatient))::double as inpatient_admissions_12m
        from {{ ref('int__encounters') }} as e
        cross join as_of as a
        where e.period_start > a.as_of_at - interval 12 months and e.period_start <= a.as_of_at
    ) unpivot (value for metric in (encounters_12m, ed_visits_12m, inpatient_admissions_12m))
),

cohorts as (
    select 'cohort_persons' as metric, cohort as dimension, persons::double as value,
        'persons' as unit, 'as_of' as period
    from {{ ref('cohort_summary') }}
    where risk_stratum = 'all'
),

rcm as (
    select
        'denial_rate' as metric, cast(null as varchar) as dimension,
        (count(*) filter (where denial_count > 0))::double / nullif(count(*), 0) as value,
        'ratio' as unit, 'all_time' as period
    from {{ ref('int__rcm_claim_states') }}
    where adjudicated_date is not null
    having count(*) > 0
    union all
    select 'days_in_ar', null, days_in_ar::double, 'days', 'as_of'
    from {{ ref('rcm_days_in_ar') }}
    where scope = 'total' and days_in_ar is not null
),

freshness as (
    -- per source: days from the newest patient record it sent (last_updated) to the lake's newest record,
    -- and days its newest clinical event trails as_of_at (0 = the newest data is from it)
    select 'data_freshness_days' as metric, coalesce(source, '(none)') as dimension,
        round(date_diff('second', max(last_updated), b.built_at) / 86400.0, 2) as value,
        'days' as unit, 'as_of' as period
    from {{ ref('stg__patient') }}
    cross join build as b
    where last_updated is not null
    group by source, b.built_at
    union all
    select 'source_lag_days', coalesce(source, '(none)'),
        round(date_diff('second', max(event_at), a.as_of_at) / 86400.0, 2),
        'days', 'as_of'
    from (
        select source, period_start as event_at from {{ ref('stg__encounter') }}
        union all select source, effective_at from {{ ref('stg__observation') }}
        union all select source, coalesce(recorded_at, onset_at) from {{ ref('stg__condition') }}
        union all select source, authored_at from {{ ref('stg__medication_request') }}
        union all select source, handed_over_at from {{ ref('stg__medication_dispense') }}
        union all select source, performed_at from {{ ref('stg__procedure') }}
        union all select source, occurrence_at from {{ ref('stg__immunization') }}
    ) as ev
    cross join as_of as a
    where event_at is not null and event_at <= a.as_of_at
    group by source, a.as_of_at
),

optional as (
    select
        cast(null as varchar) as metric, cast(null as varchar) as dimension,
        cast(null as double) as value, cast(null as varchar) as unit, cast(null as varchar) as period
    where false
    {%- if 'quality_measure_summary' in present %}
    union all
    select 'quality_measure_rate', measure_id, performance_rate, 'ratio',
        coalesce(cast(period_start as varchar) || '..' || cast(period_end as varchar), 'no period')
    from {{ ref('quality_measure_summary') }}
    {%- endif %}
    {%- if 'readmission_summary' in present %}
    union all
    select 'readmission_rate_30d', null, readmission_rate, 'ratio',
        coalesce(cast(period_start as varchar) || '..' || cast(period_end as varchar), 'no index stays')
    from {{ ref('readmission_summary') }}
    {%- endif %}
)

select
    k.metric,
    k.dimension,
    k.value,
    k.unit,
    k.period,
    case when k.metric = 'data_freshness_days' then b.built_at else coalesce(a.as_of_at, b.built_at) end as as_of
from (
    select * from people
    union all select * from encounters
    union all select * from cohorts
    union all select * from rcm
    union all select * from freshness
    union all select * from optional
) as k
cross join as_of as a
cross join build as b
