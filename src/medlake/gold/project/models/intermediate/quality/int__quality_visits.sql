-- grain: one row per person with a qualifying visit in the measurement period: an encounter
-- in value set qualifying_visit with status finished/arrived/triaged/in-progress/onleave, or a
-- claim service line with such a code, whose whole period falls within the measurement period
-- by day. Approximation, off by default: var quality_visit_classes (a list of encounter class
-- codes, e.g. ['AMB']) also counts finished encounters of those classes, for data whose
-- encounters carry no coded type. last_visit_* is the latest visit (its practitioner and
-- organization attribute the person in the by-provider summary and the care gaps).
{% set classes = var('quality_visit_classes', []) or [] %}
with visits as (
    select e.person_id, e.event_id, e.start_date, enc.practitioner_id, enc.service_provider_id
    from {{ ref('int__quality_events') }} as e
    cross join {{ ref('int__quality_period') }} as mp
    left join {{ ref('stg__encounter') }} as enc on e.event_kind = 'encounter' and e.event_id = enc.encounter_id
    where e.value_set = 'qualifying_visit'
        and (
            (e.event_kind = 'encounter' and e.status in ('finished', 'arrived', 'triaged', 'in-progress', 'onleave'))
            or e.event_kind = 'claim_line'
        )
        and e.start_date >= mp.period_start
        and e.end_date <= mp.period_end
    {% if classes %}
    union all
    select x.person_id, enc.encounter_id, cast(enc.period_start as date), enc.practitioner_id,
        enc.service_provider_id
    from {{ ref('stg__encounter') }} as enc
    inner join {{ ref('int__person_xref') }} as x on enc.patient_id = x.patient_id
    cross join {{ ref('int__quality_period') }} as mp
    where enc.class_code in ({% for c in classes %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %})
        and enc.status = 'finished'
        and cast(enc.period_start as date) >= mp.period_start
        and cast(coalesce(enc.period_end, enc.period_start) as date) <= mp.period_end
    {% endif %}
)
select
    person_id,
    count(distinct event_id) as visit_count,
    max(start_date) as last_visit_date,
    arg_max(practitioner_id, (start_date, service_provider_id, practitioner_id)) as last_visit_practitioner_id,
    arg_max(service_provider_id, (start_date, service_provider_id, practitioner_id)) as last_visit_organization_id
from visits
group by person_id
