-- grain: one row per person in the CMS117v13 initial population (Childhood Immunization
-- Status): the second birthday falls in the measurement period, and a qualifying visit.
-- numerator_met: by the second birthday, counting Immunizations with status completed (CVX,
-- matched without leading zeros) once per distinct day: 4 DTaP, 3 IPV, 3 HiB, 4 PCV (each on
-- or after 42 days old); 3 HepB (from birth); 1 MMR, 1 VZV, 1 HepA (on or after the first
-- birthday); rotavirus (on or after 42 days old): 2 days of the 2-dose vaccine (CVX 119), or
-- 3 days of any rotavirus vaccine (equivalent to 2 of the 2-dose, 3 of the 3-dose, or 1 + 2
-- mixed); 2 influenza (on or after 180 days old; LAIV only on the second birthday). A
-- diagnosis on or before the second birthday stands in for a vaccine: measles AND mumps AND
-- rubella for MMR, hepatitis B, varicella, hepatitis A, intussusception for rotavirus
-- (ICD-10-CM; vaccine anaphylaxis is SNOMED-only and not shipped).
-- Evidence: the latest counted dose day; evidence_value lists what is missing
-- ('dtap 3/4, influenza 0/2'), NULL when complete.
-- exclusion_reason: hospice care in the period (the only shared exclusion for children).
with population as (
    select q.person_id, q.age_at_period_end, q.birth_date,
        cast(q.birth_date + interval 2 year as date) as second_birthday
    from {{ ref('int__quality_person') }} as q
    inner join {{ ref('int__quality_visits') }} as v on q.person_id = v.person_id
    cross join {{ ref('int__quality_period') }} as mp
    where cast(q.birth_date + interval 2 year as date) between mp.period_start and mp.period_end
),
vaccine_sets as (
    select value_set, ltrim(code, '0') as code
    from {{ ref('int__quality_value_sets') }}
    where code_system = 'http://hl7.org/fhir/sid/cvx'
),
doses as (
    select distinct
        p.person_id,
        vs.value_set,
        cast(i.occurrence_at as date) as dose_date,
        i.source_system
    from {{ ref('stg__immunization') }} as i
    inner join {{ ref('int__person_xref') }} as x on i.patient_id = x.patient_id
    inner join population as p on x.person_id = p.person_id
    inner join vaccine_sets as vs
        on i.vaccine_system = 'http://hl7.org/fhir/sid/cvx'
        and ltrim(upper(trim(i.vaccine_code)), '0') = vs.code
    where i.status = 'completed'
        and cast(i.occurrence_at as date) <= p.second_birthday
        and cast(i.occurrence_at as date) >= case
            when vs.value_set in ('mmr_vaccine', 'vzv_vaccine', 'hepa_vaccine')
                then cast(p.birth_date + interval 1 year as date)
            when vs.value_set = 'influenza_vaccine' then p.birth_date + 180
            when vs.value_set = 'laiv_vaccine' then p.second_birthday
            when vs.value_set = 'hepb_vaccine' then p.birth_date
            else p.birth_date + 42
        end
),
counts as (
    select
        person_id,
        count(distinct dose_date) filter (where value_set = 'dtap_vaccine') as dtap,
        count(distinct dose_date) filter (where value_set = 'ipv_vaccine') as ipv,
        count(distinct dose_date) filter (where value_set = 'mmr_vaccine') as mmr,
        count(distinct dose_date) filter (where value_set = 'hib_vaccine') as hib,
        count(distinct dose_date) filter (where value_set = 'hepb_vaccine') as hepb,
        count(distinct dose_date) filter (where value_set = 'vzv_vaccine') as vzv,
        count(distinct dose_date) filter (where value_set = 'pcv_vaccine') as pcv,
        count(distinct dose_date) filter (where value_set = 'hepa_vaccine') as hepa,
        count(distinct dose_date) filter (where value_set = 'rv2_vaccine') as rv2,
        count(distinct dose_date) filter (where value_set in ('rv2_vaccine', 'rv3_vaccine')) as rv,
        count(distinct dose_date) filter (where value_set in ('influenza_vaccine', 'laiv_vaccine'))
            as influenza,
        max(dose_date) as last_dose_date,
        arg_max(source_system, (dose_date, source_system)) as source_system
    from doses
    group by person_id
),
history as (
    select
        e.person_id,
        bool_or(e.value_set = 'measles') and bool_or(e.value_set = 'mumps')
            and bool_or(e.value_set = 'rubella') as mmr,
        bool_or(e.value_set = 'hepatitis_b') as hepb,
        bool_or(e.value_set = 'varicella') as vzv,
        bool_or(e.value_set = 'hepatitis_a') as hepa,
        bool_or(e.value_set = 'intussusception') as rv
    from {{ ref('int__quality_events') }} as e
    inner join population as p on e.person_id = p.person_id
    where e.event_kind = 'condition'
        and e.value_set in ('measles', 'mumps', 'rubella', 'hepatitis_b', 'varicella', 'hepatitis_a',
            'intussusception')
        and coalesce(e.start_date, date '1900-01-01') <= p.second_birthday
    group by e.person_id
),
status as (
    select
        p.person_id,
        p.age_at_period_end,
        c.last_dose_date,
        c.source_system,
        list_value(
            case when coalesce(c.dtap, 0) < 4 then 'dtap ' || coalesce(c.dtap, 0) || '/4' end,
            case when coalesce(c.ipv, 0) < 3 then 'ipv ' || coalesce(c.ipv, 0) || '/3' end,
            case when coalesce(c.mmr, 0) < 1 and not coalesce(h.mmr, false) then 'mmr 0/1' end,
            case when coalesce(c.hib, 0) < 3 then 'hib ' || coalesce(c.hib, 0) || '/3' end,
            case when coalesce(c.hepb, 0) < 3 and not coalesce(h.hepb, false)
                then 'hepb ' || coalesce(c.hepb, 0) || '/3' end,
            case when coalesce(c.vzv, 0) < 1 and not coalesce(h.vzv, false) then 'vzv 0/1' end,
            case when coalesce(c.pcv, 0) < 4 then 'pcv ' || coalesce(c.pcv, 0) || '/4' end,
            case when coalesce(c.hepa, 0) < 1 and not coalesce(h.hepa, false) then 'hepa 0/1' end,
            case when coalesce(c.rv2, 0) < 2 and coalesce(c.rv, 0) < 3 and not coalesce(h.rv, false)
                then 'rv ' || coalesce(c.rv, 0) || '/3' end,
            case when coalesce(c.influenza, 0) < 2 then 'influenza ' || coalesce(c.influenza, 0) || '/2' end
        ) as gaps
    from population as p
    left join counts as c on p.person_id = c.person_id
    left join history as h on p.person_id = h.person_id
)
select
    s.person_id,
    'CMS117' as measure_id,
    s.age_at_period_end,
    case when sx.hospice then 'hospice care in the period' end as exclusion_reason,
    len([g for g in s.gaps if g is not null]) = 0 as numerator_met,
    s.last_dose_date as evidence_date,
    nullif(array_to_string([g for g in s.gaps if g is not null], ', '), '') as evidence_value,
    cast(null as varchar) as evidence_code,
    s.source_system as evidence_source
from status as s
left join {{ ref('int__quality_shared_exclusions') }} as sx on s.person_id = sx.person_id
