{#- Revenue-cycle helpers (see docs/revenue-cycle.md). -#}

{#- The outcome of one adjudication (one ExplanationOfBenefit version):
    reversed                CLP02 22 (or status cancelled): takes back an earlier payment
    denied                  CLP02 4, or the payer paid nothing and nothing went to the patient
    paid                    paid > 0 and no patient responsibility (CLP05)
    partially_paid          paid > 0 and some patient responsibility
    patient_responsibility  the payer paid nothing, the patient owes (deductible …) -#}
{% macro rcm_outcome(is_reversal, status_code, paid, patient_responsibility) -%}
    case
        when {{ is_reversal }} then 'reversed'
        when {{ status_code }} = '4' then 'denied'
        when coalesce({{ paid }}, 0) > 0 and coalesce({{ patient_responsibility }}, 0) > 0 then 'partially_paid'
        when coalesce({{ paid }}, 0) > 0 then 'paid'
        when coalesce({{ patient_responsibility }}, 0) > 0 then 'patient_responsibility'
        else 'denied'
    end
{%- endmacro %}

{#- An amount to the cent, 0 when missing. -#}
{% macro rcm_money(expr) -%}
    cast(coalesce({{ expr }}, 0) as decimal(18, 2))
{%- endmacro %}

{#- numerator / denominator rounded to `digits`, NULL when the denominator is 0 or NULL. -#}
{% macro rcm_ratio(numerator, denominator, digits=4) -%}
    round(cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0), {{ digits }})
{%- endmacro %}
