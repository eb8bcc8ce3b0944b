-- view: person_xref
-- grain: one row per silver Patient (the current version).
-- columns:
--   patient_id   the silver Patient id
--   person_id    the enterprise person the identity stage linked it to (an active golden
--                `Person` whose link points at the Patient); the patient id itself when no
--                Person links it yet (identity not run, or the Patient arrived after it)
--   assurance    the link's assurance (level4 deterministic/A40/manual, level3 probabilistic);
--                NULL when no Person links the Patient
--   source       the Patient's source
WITH persons AS (
    SELECT id, resource::JSON AS r
    FROM silver.person
    WHERE coalesce(TRY_CAST(resource::JSON ->> 'active' AS BOOLEAN), true)
),
links AS (
    SELECT id AS person_id, unnest(fhir_list(r -> '$.link')) AS lnk FROM persons
),
targets AS (
    SELECT
        person_id,
        fhir_ref_id(lnk -> 'target' ->> 'reference', 'Patient') AS patient_id,
        lnk ->> 'assurance' AS assurance
    FROM links
)
SELECT
    p.id AS patient_id,
    coalesce(t.person_id, p.id) AS person_id,
    t.assurance,
    p.source
FROM silver.patient AS p
LEFT JOIN targets AS t ON t.patient_id = p.id
QUALIFY row_number() OVER (PARTITION BY p.id ORDER BY t.person_id) = 1
