-- view: eob_adjustment
-- grain: one row per adjudication entry with a CAS group (category system
--   https://x12.org/codes/claim-adjustment-group-codes) of every version of every silver
--   ExplanationOfBenefit (from `silver.explanation_of_benefit_history`): claim-level entries
--   (ExplanationOfBenefit.adjudication) and line-level ones (item.adjudication). Filter on
--   is_current for the adjustments of the current versions; older versions keep what a denial
--   or a reversed payment said. id is `<eob id>@<version>/<level position>/<entry position>`
--   (`claim` or `line<n>`, 1-based positions).
-- columns:
--   id, eob_id, eob_version_id (`<eob id>@<version>`, the row of eob_version), version, is_current
--   claim_id (CLP01), patient_id, source, source_system
--   level                claim | line
--   line_sequence        INTEGER item.sequence (NULL at claim level)
--   product_code, product_system   the line's productOrService (SVC01; NULL at claim level)
--   group_code           CAS01: CO | PR | OA | PI | CR
--   reason_code          the CARC (reason coding with system
--                        https://x12.org/codes/claim-adjustment-reason-codes, else the first)
--   amount               DECIMAL(18,2) as sent (negative on a reversal)
--   quantity             DOUBLE value (CAS quantity), when given
WITH src AS (
    SELECT
        id, version, patient_id, source, source_system, resource::JSON AS r,
        valid_to IS NULL AS is_current
    FROM silver.explanation_of_benefit_history
),
heads AS (
    SELECT
        *,
        coalesce(
            list_filter(fhir_list(r -> '$.identifier'),
                lambda i: i ->> 'system' = 'https://medlake.dev/fhir/sid/patient-control-number')[1] ->> 'value',
            r ->> '$.claim.identifier.value'
        ) AS claim_id,
        fhir_list(r -> '$.item') AS items
    FROM src
),
claim_level AS (
    SELECT
        id, version, is_current, claim_id, patient_id, source, source_system,
        'claim' AS level, 'claim' AS level_key, CAST(NULL AS INTEGER) AS line_sequence,
        CAST(NULL AS JSON) AS product, fhir_list(r -> '$.adjudication') AS entries
    FROM heads
),
line_level AS (
    SELECT
        id, version, is_current, claim_id, patient_id, source, source_system,
        'line' AS level, 'line' || CAST(i AS VARCHAR) AS level_key,
        coalesce(TRY_CAST(items[i] ->> 'sequence' AS INTEGER), CAST(i AS INTEGER)) AS line_sequence,
        items[i] -> '$.productOrService.coding[0]' AS product,
        fhir_list(items[i] -> '$.adjudication') AS entries
    FROM (SELECT * FROM heads WHERE len(items) > 0), unnest(range(1, len(items) + 1)) AS t(i)
),
adjudications AS (
    SELECT levels.*, k AS position, entries[k] AS a
    FROM (SELECT * FROM claim_level UNION ALL BY NAME SELECT * FROM line_level) AS levels,
        unnest(range(1, len(entries) + 1)) AS t(k)
    WHERE len(entries) > 0
),
cas AS (
    SELECT
        *,
        list_filter(fhir_list(a -> '$.category.coding'),
            lambda c: c ->> 'system' = 'https://x12.org/codes/claim-adjustment-group-codes')[1] AS grp,
        fhir_pick(fhir_list(a -> '$.reason.coding'), ['https://x12.org/codes/claim-adjustment-reason-codes']) AS reason
    FROM adjudications
)
SELECT
    id || '@' || CAST(version AS VARCHAR) || '/' || level_key || '/' || CAST(position AS VARCHAR) AS id,
    id AS eob_id,
    id || '@' || CAST(version AS VARCHAR) AS eob_version_id,
    version,
    is_current,
    claim_id,
    patient_id,
    source,
    source_system,
    level,
    line_sequence,
    product ->> 'code' AS product_code,
    product ->> 'system' AS product_system,
    grp ->> 'code' AS group_code,
    reason ->> 'code' AS reason_code,
    TRY_CAST(a ->> '$.amount.value' AS DECIMAL(18, 2)) AS amount,
    TRY_CAST(a ->> '$.value' AS DOUBLE) AS quantity
FROM cas
WHERE grp IS NOT NULL
