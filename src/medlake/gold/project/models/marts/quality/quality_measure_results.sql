-- grain: one row per person x measure x measurement period, for persons in the measure's
-- initial population (CMS2, CMS117, CMS122, CMS125, CMS130, CMS165 v13; see int__quality_cms*).
--   in_denominator   = in_initial_population for these measures (counted before exclusions)
--   excluded         a denominator exclusion applies (exclusion_reason says which)
--   in_numerator     only for persons in the denominator and not excluded
--   evidence_*       what decided the numerator: date, value (text: '9.4', '128/82',
--                    'colonoscopy'), code and source system; NULL when nothing was found
with measures as (
    select * from {{ ref('int__quality_cms122') }}
    union all by name
    select * from {{ ref('int__quality_cms125') }}
    union all by name
    select * from {{ ref('int__quality_cms130') }}
    union all by name
    select * from {{ ref('int__quality_cms165') }}
    union all by name
    select * from {{ ref('int__quality_cms117') }}
    union all by name
    select * from {{ ref('int__quality_cms2') }}
)
select
    r.person_id,
    r.measure_id,
    m.measure_name,
    m.version as measure_version,
    mp.period_start,
    mp.period_end,
    r.age_at_period_end,
    true as in_initial_population,
    true as in_denominator,
    r.exclusion_reason is not null as excluded,
    r.exclusion_reason is null and r.numerator_met as in_numerator,
    r.evidence_date,
    r.evidence_value,
    r.evidence_code,
    r.evidence_source,
    r.exclusion_reason
from measures as r
inner join {{ ref('quality_measures') }} as m on r.measure_id = m.measure_id
cross join {{ ref('int__quality_period') }} as mp
