-- grain: one row per measure x measurement period (every measure of seed quality_measures,
-- zero counts included). performance_rate = numerator / (denominator - exclusions), NULL when
-- that is 0; for inverse measures (CMS122) a lower rate is better.
with counts as (
    select
        measure_id,
        count(*) filter (where in_initial_population) as initial_population,
        count(*) filter (where in_denominator) as denominator,
        count(*) filter (where in_denominator and excluded) as denominator_exclusions,
        count(*) filter (where in_numerator) as numerator
    from {{ ref('quality_measure_results') }}
    group by measure_id
)
select
    m.measure_id,
    m.measure_name,
    m.version as measure_version,
    mp.period_start,
    mp.period_end,
    coalesce(c.initial_population, 0) as initial_population,
    coalesce(c.denominator, 0) as denominator,
    coalesce(c.denominator_exclusions, 0) as denominator_exclusions,
    coalesce(c.numerator, 0) as numerator,
    cast(c.numerator as double) / nullif(c.denominator - c.denominator_exclusions, 0) as performance_rate,
    m.inverse
from {{ ref('quality_measures') }} as m
cross join {{ ref('int__quality_period') }} as mp
left join counts as c on m.measure_id = c.measure_id
