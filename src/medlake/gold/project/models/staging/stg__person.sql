-- grain: one row per enterprise person (active golden Person)
select
    person_id,
    family_name,
    given_name,
    birth_date,
    gender,
    address_line,
    city,
    state,
    postal_code,
    phone,
    email,
    name_source,
    birth_date_source,
    address_source,
    record_count,
    sources,
    patient_ids,
    last_updated
from {{ source('views', 'person') }}
