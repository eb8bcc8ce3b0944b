-- grain: one row per silver patient; person_id is its enterprise person (int__person_xref).
select
    x.person_id,
    p.patient_id,
    p.source,
    p.source_system,
    p.source_id,
    p.mrn,
    p.family_name,
    p.given_name,
    p.birth_date,
    case
        when p.birth_date is not null
            then date_diff('year', p.birth_date, cast(coalesce(p.deceased_at, a.as_of_at) as date))
                - case
                    when strftime(cast(coalesce(p.deceased_at, a.as_of_at) as date), '%m%d') < strftime(p.birth_date, '%m%d')
                        then 1 else 0
                  end
    end as age_years,
    p.gender,
    p.deceased,
    p.deceased_at,
    p.address_line,
    p.city,
    p.state,
    p.postal_code,
    p.phone,
    p.email,
    p.race,
    p.race_code,
    p.ethnicity,
    p.ethnicity_code,
    p.last_updated
from {{ ref('stg__patient') }} as p
inner join {{ ref('int__person_xref') }} as x on p.patient_id = x.patient_id
cross join {{ ref('int__as_of') }} as a
