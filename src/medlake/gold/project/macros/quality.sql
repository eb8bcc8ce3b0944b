{# Quality-measure helpers (models/*/quality/). #}

{# HCPCS arrives under two URIs and its OID; value sets and events compare on the CMS URI. #}
{% macro quality_code_system(col) -%}
    case
        when {{ col }} in ('http://www.nlm.nih.gov/research/umls/hcpcs', 'urn:oid:2.16.840.1.113883.6.285')
            then 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets'
        else {{ col }}
    end
{%- endmacro %}

{# Codes compare upper-case with dots removed (`Z90.13` = `z9013`). #}
{% macro quality_code(col) -%}
    upper(replace(trim({{ col }}), '.', ''))
{%- endmacro %}

{# Whole years from `birth` to `on` (a birthday counts on its own day). #}
{% macro quality_age(birth, on) -%}
    (date_diff('year', {{ birth }}, {{ on }})
        - case when strftime({{ on }}, '%m%d') < strftime({{ birth }}, '%m%d') then 1 else 0 end)
{%- endmacro %}

{# A value as short text: 128.0 -> '128', 9.1 -> '9.1'. #}
{% macro quality_number_text(col) -%}
    case
        when {{ col }} is null then null
        when {{ col }} = round({{ col }}) then cast(cast({{ col }} as bigint) as varchar)
        else cast({{ col }} as varchar)
    end
{%- endmacro %}

{# An event's [start_date, end_date] overlaps [lo, hi]; a missing start means "before",
   a missing end means "still ongoing". #}
{% macro quality_overlaps(lo, hi) -%}
    (coalesce(e.start_date, date '1900-01-01') <= {{ hi }}
        and coalesce(e.end_date, date '9999-12-31') >= {{ lo }})
{%- endmacro %}

{# The shared exclusions (hospice, palliative care, 66+ frailty with advanced illness, 66+
   long-term nursing home) as a reason text, NULL when none applies. `sx` is
   int__quality_shared_exclusions (left-joined), `age` the age at period end. #}
{% macro quality_shared_exclusion_reason(age) -%}
    case
        when sx.hospice then 'hospice care in the period'
        when sx.palliative then 'palliative care in the period'
        when {{ age }} >= 66 and sx.frailty and sx.advanced_illness
            then 'age 66+ with frailty and advanced illness'
        when {{ age }} >= 66 and sx.nursing_home then 'age 66+ living long-term in a nursing home'
    end
{%- endmacro %}

{# Persons of the initial population common to the four v13 measures: age at period end in
   [min_age, max_age] (seed quality_measures) and a qualifying visit. Yields `p` columns. #}
{% macro quality_base_population(measure_id) -%}
    select p.person_id, p.age_at_period_end, p.gender
    from {{ ref('int__quality_person') }} as p
    inner join {{ ref('int__quality_visits') }} as v on p.person_id = v.person_id
    inner join {{ ref('quality_measures') }} as m on m.measure_id = '{{ measure_id }}'
    where p.age_at_period_end between m.min_age and m.max_age
{%- endmacro %}

-- The counts and rate of a breakdown of quality_measure_results (aliased `r`) by provider,
-- location or payer: denominator, exclusions, numerator, numerator / (denominator - exclusions).
{% macro quality_rates() -%}
    count(*) as denominator,
    count(*) filter (where r.excluded) as denominator_exclusions,
    count(*) filter (where r.in_numerator) as numerator,
    cast(count(*) filter (where r.in_numerator) as double)
        / nullif(count(*) filter (where not r.excluded), 0) as performance_rate
{%- endmacro %}
