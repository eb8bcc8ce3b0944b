-- grain: one row per (enterprise person, built-in condition cohort).
--   onset_date      earliest evidence date (int__cohort_evidence); NULL when no evidence is dated
--   evidence_*      that earliest evidence (ties: diagnosis before lab, then the smallest id)
--   risk_stratum    see the cohort models' docs (_cohort.yml); latest values from patient_360
--   attributed_*    cohort_attribution
with first_evidence as (
    select
        person_id,
        cohort,
        event_date as onset_date,
        evidence_type,
        evidence_code,
        evidence_system,
        evidence_source,
        count(*) over (partition by person_id, cohort) as evidence_count
    from {{ ref('int__cohort_evidence') }}
    qualify row_number() over (
        partition by person_id, cohort
        order by event_date nulls last, evidence_type, evidence_id
    ) = 1
),

phq9 as (
    -- latest PHQ-9 total score (LOINC 44261-6) per person; ties: the smallest id
    select x.person_id, o.value_number as phq9_score
    from {{ ref('int__observations') }} as o
    inner join {{ ref('int__person_xref') }} as x on o.patient_id = x.patient_id
    where o.code_system = 'http://loinc.org' and o.code = '44261-6'
        and o.value_number is not null
        and coalesce(o.status, '') not in ('entered-in-error', 'cancelled')
    qualify row_number() over (
        partition by x.person_id order by o.effective_at desc nulls last, o.observation_id
    ) = 1
)

select
    f.person_id,
    f.cohort,
    f.onset_date,
    f.evidence_type,
    f.evidence_code,
    f.evidence_system,
    f.evidence_source,
    f.evidence_count,
    case f.cohort
        when 'diabetes' then
            case
                when p.hba1c_value is null then 'hba1c_unknown'
                when p.hba1c_value < 7 then 'hba1c_lt_7'
                when p.hba1c_value <= 9 then 'hba1c_7_to_9'
                else 'hba1c_gt_9'
            end
        when 'hypertension' then
            case
                when p.bp_systolic_value is null or p.bp_diastolic_value is null then 'bp_unknown'
                when p.bp_systolic_value >= 140 or p.bp_diastolic_value >= 90 then 'bp_ge_140_90'
                when p.bp_systolic_value >= 130 or p.bp_diastolic_value >= 80 then 'bp_130_139_or_80_89'
                else 'bp_lt_130_80'
            end
        when 'ckd' then
            case
                when p.egfr_value is null then 'egfr_unknown'
                when p.egfr_value >= 90 then 'G1'
                when p.egfr_value >= 60 then 'G2'
                when p.egfr_value >= 45 then 'G3a'
                when p.egfr_value >= 30 then 'G3b'
                when p.egfr_value >= 15 then 'G4'
                else 'G5'
            end
        when 'depression' then
            case
                when q.phq9_score is null then 'phq9_unknown'
                when q.phq9_score < 5 then 'phq9_minimal'
                when q.phq9_score < 10 then 'phq9_mild'
                when q.phq9_score < 15 then 'phq9_moderate'
                when q.phq9_score < 20 then 'phq9_moderately_severe'
                else 'phq9_severe'
            end
        else  -- chf, copd, asthma: acute-care use in the last 12 months
            case
                when p.inpatient_stays_12m >= 1 or p.ed_visits_12m >= 2 then 'high_utilization'
                else 'standard'
            end
    end as risk_stratum,
    a.attributed_payer,
    a.attributed_provider,
    p.as_of_at
from first_evidence as f
inner join {{ ref('patient_360') }} as p on f.person_id = p.person_id
left join phq9 as q on f.person_id = q.person_id
left join {{ ref('cohort_attribution') }} as a on f.person_id = a.person_id
