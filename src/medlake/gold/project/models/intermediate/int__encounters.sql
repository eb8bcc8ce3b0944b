-- grain: one row per encounter, classified.
--   is_ed_visit   class EMER (v3 ActCode emergency)
--   is_inpatient  class IMP, ACUTE or NONAC (v3 ActCode inpatient classes)
--   length_of_stay_days  whole UTC calendar days from start to end, inpatient only
select
    e.*,
    coalesce(e.class_code = 'EMER', false) as is_ed_visit,
    coalesce(e.class_code in ('IMP', 'ACUTE', 'NONAC'), false) as is_inpatient,
    case
        when e.class_code in ('IMP', 'ACUTE', 'NONAC')
            then date_diff('day', cast(e.period_start as date), cast(e.period_end as date))
    end as length_of_stay_days
from {{ ref('stg__encounter') }} as e
