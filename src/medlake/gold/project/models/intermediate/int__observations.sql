-- grain: one row per observation or component row, with `measure` naming the key vital or
-- lab (seed observation_measures, matched on the LOINC code) or NULL.
select
    o.*,
    m.measure
from {{ ref('stg__observation') }} as o
left join {{ ref('observation_measures') }} as m
    on o.code_system = 'http://loinc.org' and o.code = m.loinc_code
