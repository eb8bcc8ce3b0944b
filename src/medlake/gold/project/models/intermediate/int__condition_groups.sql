-- grain: one row per (condition, chronic-condition group) it belongs to. A condition matches
-- a group when its preferred coding or its source coding is in seed chronic_condition_codes
-- (ICD by dot-less prefix, SNOMED CT by exact id). A code can be in several groups
-- (e.g. ICD-9 402.01 is hypertension and CHF).
with codings as (
    select condition_id, code_system as system, code from {{ ref('stg__condition') }}
    union
    select condition_id, source_code_system, source_code from {{ ref('stg__condition') }}
)
select distinct
    c.condition_id,
    g.condition_group
from codings as c
inner join {{ ref('chronic_condition_codes') }} as g
    on c.system = g.code_system
    and (
        (g.match_type = 'prefix' and starts_with(upper(replace(c.code, '.', '')), upper(g.code)))
        or (g.match_type = 'exact' and c.code = g.code)
    )
