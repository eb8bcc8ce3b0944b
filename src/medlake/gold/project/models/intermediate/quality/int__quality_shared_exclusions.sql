-- grain: one row per person with any evidence used by the shared denominator exclusions
-- (CMS122/125/130/165 v13), flags for the measurement period:
--   hospice            an inpatient discharge to hospice (NUBC 50/51) ending in the period,
--                      or any event in value set `hospice` (user-supplied) in the period
--   palliative         a palliative-care condition (Z51.5) overlapping the period, or any
--                      other event in value set `palliative_care` in the period
--   frailty            a Frailty Diagnosis condition overlapping the period, a frailty
--                      encounter, device or symptom OBSERVATION (R54 etc. count only as
--                      observations) in the period
--   advanced_illness   an Advanced Illness condition whose prevalence starts in the period or
--                      the year before, or a dementia medication (value set
--                      `dementia_medication`, user-supplied RxNorm) in that window
--   nursing_home       any event in value set `nursing_home_residence` (user-supplied) on or
--                      before period end
-- The age conditions (66+, 81+) are applied by the measures.
with flags as (
    select
        e.person_id,
        (e.value_set = 'hospice_discharge' and e.event_kind = 'discharge'
            and e.end_date between mp.period_start and mp.period_end)
        or (e.value_set = 'hospice' and {{ quality_overlaps('mp.period_start', 'mp.period_end') }})
            as hospice,
        (e.value_set = 'palliative_care' and {{ quality_overlaps('mp.period_start', 'mp.period_end') }})
            as palliative,
        (e.value_set = 'frailty_diagnosis' and e.event_kind = 'condition'
            and {{ quality_overlaps('mp.period_start', 'mp.period_end') }})
        or (e.value_set = 'frailty_symptom' and e.event_kind = 'observation'
            and e.start_date between mp.period_start and mp.period_end)
        or (e.value_set in ('frailty_encounter', 'frailty_device') and e.event_kind <> 'condition'
            and {{ quality_overlaps('mp.period_start', 'mp.period_end') }})
            as frailty,
        (e.value_set = 'advanced_illness' and e.event_kind = 'condition'
            and e.start_date between cast(mp.period_start - interval 1 year as date) and mp.period_end)
        or (e.value_set = 'dementia_medication'
            and e.event_kind in ('medication_dispense', 'medication_request')
            and e.start_date between cast(mp.period_start - interval 1 year as date) and mp.period_end)
            as advanced_illness,
        (e.value_set = 'nursing_home_residence' and e.start_date <= mp.period_end) as nursing_home
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
)
select
    person_id,
    bool_or(hospice) as hospice,
    bool_or(palliative) as palliative,
    bool_or(frailty) as frailty,
    bool_or(advanced_illness) as advanced_illness,
    bool_or(nursing_home) as nursing_home
from flags
group by person_id
having bool_or(hospice) or bool_or(palliative) or bool_or(frailty)
    or bool_or(advanced_illness) or bool_or(nursing_home)
