-- grain: one row per condition, with is_active and its chronic-condition groups.
--   is_active: clinical status active/recurrence/relapse (or, when the status is missing, no
--   abatement), and not refuted or entered in error.
with groups as (
    select condition_id, list_sort(list(condition_group)) as chronic_condition_groups
    from {{ ref('int__condition_groups') }}
    group by condition_id
)
select
    c.*,
    coalesce(c.clinical_status in ('active', 'recurrence', 'relapse'), c.abatement_at is null)
        and coalesce(c.verification_status not in ('refuted', 'entered-in-error'), true) as is_active,
    coalesce(g.chronic_condition_groups, []) as chronic_condition_groups
from {{ ref('stg__condition') }} as c
left join groups as g on c.condition_id = g.condition_id
