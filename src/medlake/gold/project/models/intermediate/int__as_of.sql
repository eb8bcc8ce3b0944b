-- grain: one row. as_of_at = the "latest data date" that relative windows (last 12 months,
-- active dispenses) are measured from: var('as_of') when given, else the latest clinical
-- event time in the data (encounter start, observation, condition recorded/onset, request
-- authored, dispense handed over, procedure performed, immunization given) that is not in
-- the future.
{% if var('as_of', none) %}
select cast('{{ var("as_of") }}' as timestamptz) as as_of_at
{% else %}
with events as (
    select period_start as event_at from {{ ref('stg__encounter') }}
    union all select effective_at from {{ ref('stg__observation') }}
    union all select coalesce(recorded_at, onset_at) from {{ ref('stg__condition') }}
    union all select authored_at from {{ ref('stg__medication_request') }}
    union all select handed_over_at from {{ ref('stg__medication_dispense') }}
    union all select performed_at from {{ ref('stg__procedure') }}
    union all select occurrence_at from {{ ref('stg__immunization') }}
)
select max(event_at) as as_of_at
from events
where event_at <= current_timestamp
{% endif %}
