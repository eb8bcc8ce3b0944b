-- grain: one row. as_of_date = the date the revenue-cycle balances are measured at: the date
-- part of var('as_of') when given, else the latest business date in the claims data (a claim
-- version's created date, an adjudication's payment date, a payment date, a 277 status date).
{% if var('as_of', none) %}
select cast(left('{{ var("as_of") }}', 10) as date) as as_of_date
{% else %}
with dates as (
    select created_date as d from {{ ref('stg__claim_version') }}
    union all
    select coalesce(payment_date, created_date) from {{ ref('stg__eob_version') }}
    union all
    select payment_date from {{ ref('stg__payment') }} where row_type = 'payment'
    union all
    select created_date from {{ ref('stg__claim_response_version') }}
)
select max(d) as as_of_date
from dates
{% endif %}
