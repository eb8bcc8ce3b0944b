-- grain: one row per value-set member: the shipped public codes (seed quality_value_sets)
-- and the tenant's own (stg__quality_user_value_sets, always exact matches). code is
-- normalized (upper case, no dots); match_type prefix matches every code that starts with it.
select distinct value_set, code_system, code, match_type, origin
from (
    select
        value_set,
        {{ quality_code_system('code_system') }} as code_system,
        {{ quality_code('code') }} as code,
        match_type,
        'shipped' as origin
    from {{ ref('quality_value_sets') }}
    union all
    select
        value_set,
        {{ quality_code_system('code_system') }},
        {{ quality_code('code') }},
        'exact',
        'user'
    from {{ ref('stg__quality_user_value_sets') }}
)
