-- view: claim
-- grain: one row per silver Claim (its current version). An 837 claim is keyed on CLM01, so a
--   replacement (frequency 7) or a void (8) is a new version of the same row; every version is
--   in the view `claim_version`.
-- columns:
--   id, patient_id, source, source_system, version (the current version number)
--   claim_id             identifier with system https://medlake.dev/fhir/sid/patient-control-number (CLM01)
--   payer_claim_number   identifier with system .../payer-claim-control-number (REF*F8: the
--                        payer's number of the claim this one replaces)
--   status               active | cancelled | …
--   frequency            extension claim-frequency (CLM05-3: 1 original, 7 replacement, 8 void)
--   claim_type           first coding code of type (professional | institutional | oral …)
--   use
--   created              DATE (BHT04)
--   billable_start, billable_end   DATE (billablePeriod)
--   provider_type, provider_id     billing provider: `Organization` | `Practitioner` and its id
--   provider_npi         provider.identifier.value when the reference carries one (else join the
--                        organization / practitioner view on provider_id)
--   rendering_provider_id, referring_provider_id, attending_provider_id
--                        Practitioner id of the first careTeam member with that role
--                        (performing | referring | attending)
--   insurer_id           Organization id of insurer; payer_name its display; payer_identifier
--                        insurer.identifier.value when given
--   coverage_id          Coverage id of the focal insurance (else the first)
--   facility_id          id of facility (Location or Organization)
--   total_charge         DECIMAL(18,2) total.value (CLM02)
--   principal_diagnosis_code, principal_diagnosis_system
--                        the diagnosis typed `principal`, else the lowest sequence
--   diagnosis_count, line_count
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, version, last_updated, resource::JSON AS r
    FROM silver.claim
),
parts AS (
    SELECT
        *,
        fhir_list(r -> '$.identifier') AS idents,
        fhir_list(r -> '$.careTeam') AS team,
        fhir_list(r -> '$.diagnosis') AS dx,
        fhir_list(r -> '$.insurance') AS ins,
        r ->> '$.provider.reference' AS provider_ref
    FROM src
),
picked AS (
    SELECT
        *,
        coalesce(
            list_filter(dx, lambda d: list_contains(list_transform(fhir_list(d -> '$.type'),
                lambda t: t ->> '$.coding[0].code'), 'principal'))[1],
            list_sort(list_transform(dx, lambda d: {'seq': TRY_CAST(d ->> 'sequence' AS INTEGER), 'd': d}))[1]['d']
        ) AS principal,
        coalesce(list_filter(ins, lambda i: TRY_CAST(i ->> 'focal' AS BOOLEAN))[1], ins[1]) AS focal
    FROM parts
)
SELECT
    id,
    patient_id,
    source,
    source_system,
    version,
    list_filter(idents, lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/patient-control-number')[1] ->> 'value' AS claim_id,
    list_filter(idents, lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/payer-claim-control-number')[1] ->> 'value' AS payer_claim_number,
    r ->> 'status' AS status,
    list_filter(fhir_list(r -> '$.extension'), lambda e: ends_with(e ->> 'url', '/claim-frequency'))[1] ->> 'valueCode' AS frequency,
    r ->> '$.type.coding[0].code' AS claim_type,
    r ->> 'use' AS use,
    TRY_CAST(left(r ->> 'created', 10) AS DATE) AS created,
    TRY_CAST(left(r ->> '$.billablePeriod.start', 10) AS DATE) AS billable_start,
    TRY_CAST(left(r ->> '$.billablePeriod.end', 10) AS DATE) AS billable_end,
    CASE
        WHEN starts_with(provider_ref, 'Organization/') THEN 'Organization'
        WHEN starts_with(provider_ref, 'Practitioner/') THEN 'Practitioner'
    END AS provider_type,
    coalesce(fhir_ref_id(provider_ref, 'Organization'), fhir_ref_id(provider_ref, 'Practitioner')) AS provider_id,
    r ->> '$.provider.identifier.value' AS provider_npi,
    fhir_ref_id(list_filter(team, lambda t: t ->> '$.role.coding[0].code' = 'performing')[1] ->> '$.provider.reference',
        'Practitioner') AS rendering_provider_id,
    fhir_ref_id(list_filter(team, lambda t: t ->> '$.role.coding[0].code' = 'referring')[1] ->> '$.provider.reference',
        'Practitioner') AS referring_provider_id,
    fhir_ref_id(list_filter(team, lambda t: t ->> '$.role.coding[0].code' = 'attending')[1] ->> '$.provider.reference',
        'Practitioner') AS attending_provider_id,
    fhir_ref_id(r ->> '$.insurer.reference', 'Organization') AS insurer_id,
    r ->> '$.insurer.display' AS payer_name,
    r ->> '$.insurer.identifier.value' AS payer_identifier,
    fhir_ref_id(focal ->> '$.coverage.reference', 'Coverage') AS coverage_id,
    nullif(regexp_extract(r ->> '$.facility.reference', '^[A-Za-z]+/(.+)$', 1), '') AS facility_id,
    TRY_CAST(r ->> '$.total.value' AS DECIMAL(18, 2)) AS total_charge,
    principal ->> '$.diagnosisCodeableConcept.coding[0].code' AS principal_diagnosis_code,
    principal ->> '$.diagnosisCodeableConcept.coding[0].system' AS principal_diagnosis_system,
    len(dx) AS diagnosis_count,
    len(fhir_list(r -> '$.item')) AS line_count,
    last_updated
FROM picked
