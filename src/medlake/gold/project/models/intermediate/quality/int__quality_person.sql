-- grain: one row per enterprise person: birth date and gender (from the most recently
-- updated patient record that has them) and age in whole years at the end of the
-- measurement period (a birthday counts on its own day).
with people as (
    select
        x.person_id,
        arg_max(p.birth_date, (p.last_updated, p.birth_date)) filter (where p.birth_date is not null and p.last_updated is not null) as birth_date,
        arg_max(p.gender, (p.last_updated, p.gender)) filter (where p.gender is not null and p.last_updated is not null) as gender
    from {{ ref('stg__patient') }} as p
    inner join {{ ref('int__person_xref') }} as x on p.patient_id = x.patient_id
    group by x.person_id
)
select
    people.person_id,
    people.birth_date,
    people.gender,
    {{ quality_age('people.birth_date', 'mp.period_end') }} as age_at_period_end
from people
cross join {{ ref('int__quality_period') }} as mp
