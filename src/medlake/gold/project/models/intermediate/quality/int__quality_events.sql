-- grain: one row per (clinical event, value set it is in). Events are encounters (type
-- code; inpatient discharge disposition as its own kind), conditions, observations and
-- their components, procedures, claim service lines (HCPCS/CPT product code, service dates),
-- medication dispenses and requests. Both the normalized and
-- the source coding are matched. start_date/end_date are UTC days: encounter period,
-- condition onset (else recorded) to abatement, observation effective, procedure performed,
-- dispense handed over, request authored. Refuted / entered-in-error conditions are left out.
with coded as (
    select 'encounter' as event_kind, encounter_id as event_id, patient_id, encounter_id,
        type_system as code_system, type_code as code, status, cast(null as varchar) as category,
        cast(period_start as date) as start_date,
        cast(coalesce(period_end, period_start) as date) as end_date,
        cast(null as double) as value_number, source_system
    from {{ ref('stg__encounter') }}
    union all
    select 'discharge', encounter_id, patient_id, encounter_id,
        'https://www.nubc.org/CodeSystem/PatDischargeStatus', discharge_disposition, status, class_code,
        cast(period_start as date), cast(coalesce(period_end, period_start) as date), null, source_system
    from {{ ref('stg__encounter') }}
    where discharge_disposition is not null and class_code in ('IMP', 'ACUTE', 'NONAC')
    union all
    select 'condition', condition_id, patient_id, encounter_id, s.code_system, s.code,
        verification_status, category,
        cast(coalesce(onset_at, recorded_at) as date), cast(abatement_at as date), null, source_system
    from {{ ref('stg__condition') }},
        unnest([{'code_system': code_system, 'code': code},
                {'code_system': source_code_system, 'code': source_code}]) as t(s)
    where coalesce(verification_status, '') not in ('refuted', 'entered-in-error')
    union all
    select 'observation', observation_id, patient_id, encounter_id, s.code_system, s.code,
        status, category, cast(effective_at as date), cast(effective_at as date), value_number,
        source_system
    from {{ ref('stg__observation') }},
        unnest([{'code_system': code_system, 'code': code},
                {'code_system': source_code_system, 'code': source_code}]) as t(s)
    union all
    select 'procedure', procedure_id, patient_id, encounter_id, s.code_system, s.code,
        status, null, cast(performed_at as date), cast(coalesce(performed_end_at, performed_at) as date),
        null, source_system
    from {{ ref('stg__procedure') }},
        unnest([{'code_system': code_system, 'code': code},
                {'code_system': source_code_system, 'code': source_code}]) as t(s)
    union all
    select 'claim_line', claim_line_id, patient_id, cast(null as varchar), product_system, product_code,
        'completed', null, cast(serviced_date as date), cast(coalesce(serviced_end, serviced_date) as date),
        null, source
    from {{ ref('stg__claim_line') }}
    union all
    select 'medication_dispense', medication_dispense_id, patient_id, encounter_id, code_system, code,
        status, null, cast(handed_over_at as date), cast(handed_over_at as date), null, source_system
    from {{ ref('stg__medication_dispense') }}
    union all
    select 'medication_request', medication_request_id, patient_id, encounter_id, code_system, code,
        status, null, cast(authored_at as date), cast(authored_at as date), null, source_system
    from {{ ref('stg__medication_request') }}
),
normalized as (
    select distinct
        event_kind, event_id, patient_id, encounter_id,
        {{ quality_code_system('code_system') }} as code_system,
        code,
        {{ quality_code('code') }} as code_norm,
        status, category, start_date, end_date, value_number, source_system
    from coded
    where code is not null and code_system is not null
)
select distinct
    x.person_id,
    n.patient_id,
    n.event_kind,
    n.event_id,
    vs.value_set,
    n.code_system,
    n.code,
    n.status,
    n.category,
    n.start_date,
    n.end_date,
    n.value_number,
    n.encounter_id,
    enc.class_code as encounter_class,
    n.source_system
from normalized as n
inner join {{ ref('int__quality_value_sets') }} as vs
    on n.code_system = vs.code_system
    and (n.code_norm = vs.code or (vs.match_type = 'prefix' and starts_with(n.code_norm, vs.code)))
inner join {{ ref('int__person_xref') }} as x on n.patient_id = x.patient_id
left join {{ ref('stg__encounter') }} as enc on n.encounter_id = enc.encounter_id
