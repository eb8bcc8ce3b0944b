-- grain: one row per user-supplied value-set member (value_set, code_system, code), as loaded
-- from the tenant's value_sets_dir; source_file names the CSV it came from.
select
    value_set,
    code_system,
    code,
    source_file
from {{ source('quality_inputs', 'quality_user_value_sets') }}
