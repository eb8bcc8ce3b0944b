-- grain: one row: the measurement period [period_start, period_end] (dates, inclusive).
--   vars quality_period_start / quality_period_end (ISO dates, both or neither); default: the
--   calendar year of the data's as-of date (int__as_of), or of today when there is no data.
{% set ps = var('quality_period_start', none) %}
{% set pe = var('quality_period_end', none) %}
{% if ps and pe %}
select cast('{{ ps }}' as date) as period_start, cast('{{ pe }}' as date) as period_end
{% elif ps or pe %}
{{ exceptions.raise_compiler_error(
    "quality measures: set both vars `quality_period_start` and `quality_period_end` "
    ~ "(ISO dates, e.g. 2025-01-01 and 2025-12-31) or neither (default: the calendar year of "
    ~ "the data's as-of date)") }}
{% else %}
select
    make_date(year(d), 1, 1) as period_start,
    make_date(year(d), 12, 31) as period_end
from (select cast(coalesce(as_of_at, current_timestamp) as date) as d from {{ ref('int__as_of') }})
{% endif %}
