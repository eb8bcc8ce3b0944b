-- view: claim_line
-- grain: one row per Claim.item of the current version of each silver Claim (an 837 service
--   line, LX). id is `<claim id>#<sequence>` (the item's sequence, else its 1-based position).
-- columns:
--   id, claim_resource_id (the Claim's id), claim_id (CLM01), patient_id, source, source_system
--   sequence             INTEGER (LX01)
--   product_code, product_system    first coding of productOrService (SV101 / SV202: CPT, HCPCS …)
--   modifiers            VARCHAR[] first coding code of each modifier, in order (SV101-3..6)
--   revenue_code         revenue (SV201, institutional)
--   serviced_date, serviced_end     DATE: servicedDate, else servicedPeriod start / end
--   units                DOUBLE quantity.value (SV104 / SV205)
--   charge               DECIMAL(18,2) net.value (SV102 / SV203)
--   place_of_service     first coding code of locationCodeableConcept (SV105 or CLM05-1)
--   diagnosis_pointers   INTEGER[] diagnosisSequence (SV107)
--   rendering_provider_id   Practitioner of the careTeam entry the line points at
--                        (careTeamSequence[0], 2420A), else the claim's first `performing` member
--   last_updated
WITH src AS (
    SELECT
        id, patient_id, source, source_system, last_updated, resource::JSON AS r,
        fhir_list(resource::JSON -> '$.item') AS items,
        fhir_list(resource::JSON -> '$.careTeam') AS team
    FROM silver.claim
),
lines AS (
    SELECT
        id AS claim_resource_id, patient_id, source, source_system, last_updated, r, team,
        i AS position, items[i] AS it
    FROM (SELECT * FROM src WHERE len(items) > 0), unnest(range(1, len(items) + 1)) AS t(i)
),
parts AS (
    SELECT
        *,
        coalesce(TRY_CAST(it ->> 'sequence' AS INTEGER), CAST(position AS INTEGER)) AS seq,
        TRY_CAST(it ->> '$.careTeamSequence[0]' AS INTEGER) AS team_seq
    FROM lines
)
SELECT
    claim_resource_id || '#' || CAST(seq AS VARCHAR) AS id,
    claim_resource_id,
    list_filter(fhir_list(r -> '$.identifier'),
        lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/patient-control-number')[1] ->> 'value' AS claim_id,
    patient_id,
    source,
    source_system,
    seq AS sequence,
    it ->> '$.productOrService.coding[0].code' AS product_code,
    it ->> '$.productOrService.coding[0].system' AS product_system,
    list_filter(list_transform(fhir_list(it -> '$.modifier'), lambda m: m ->> '$.coding[0].code'),
        lambda c: c IS NOT NULL) AS modifiers,
    it ->> '$.revenue.coding[0].code' AS revenue_code,
    TRY_CAST(left(coalesce(it ->> 'servicedDate', it ->> '$.servicedPeriod.start'), 10) AS DATE) AS serviced_date,
    TRY_CAST(left(coalesce(it ->> 'servicedDate', it ->> '$.servicedPeriod.end'), 10) AS DATE) AS serviced_end,
    TRY_CAST(it ->> '$.quantity.value' AS DOUBLE) AS units,
    TRY_CAST(it ->> '$.net.value' AS DECIMAL(18, 2)) AS charge,
    it ->> '$.locationCodeableConcept.coding[0].code' AS place_of_service,
    list_transform(fhir_list(it -> '$.diagnosisSequence'), lambda p: TRY_CAST(p ->> '$' AS INTEGER)) AS diagnosis_pointers,
    fhir_ref_id(coalesce(
        list_filter(team, lambda t: TRY_CAST(t ->> 'sequence' AS INTEGER) = team_seq)[1],
        list_filter(team, lambda t: t ->> '$.role.coding[0].code' = 'performing')[1]
    ) ->> '$.provider.reference', 'Practitioner') AS rendering_provider_id,
    last_updated
FROM parts
