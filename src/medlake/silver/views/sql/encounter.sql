-- view: encounter
-- grain: one row per silver Encounter.
-- columns:
--   id, patient_id, source, source_system
--   status
--   class_code, class_system           Encounter.class (v3 ActCode: AMB, EMER, IMP, ACUTE, …)
--   type_code, type_system, type_display  first coding of the first type
--   period_start, period_end           TIMESTAMPTZ
--   reason_code, reason_system, reason_display  first coding of the first reasonCode
--   discharge_disposition              hospitalization.dischargeDisposition first coding code
--   priority_code                      first coding code of Encounter.priority (v3 ActPriority: EL elective, EM, R, …)
--   service_provider_id                Organization id of serviceProvider
--   practitioner_id                    first participant that references a Practitioner
--   last_updated
WITH src AS (
    SELECT id, patient_id, source, source_system, last_updated, resource::JSON AS r
    FROM silver.encounter
)
SELECT
    id,
    patient_id,
    source,
    source_system,
    r ->> 'status' AS status,
    r ->> '$.class.code' AS class_code,
    r ->> '$.class.system' AS class_system,
    r ->> '$.type[0].coding[0].code' AS type_code,
    r ->> '$.type[0].coding[0].system' AS type_system,
    coalesce(r ->> '$.type[0].coding[0].display', r ->> '$.type[0].text') AS type_display,
    fhir_instant(r ->> '$.period.start') AS period_start,
    fhir_instant(r ->> '$.period.end') AS period_end,
    r ->> '$.reasonCode[0].coding[0].code' AS reason_code,
    r ->> '$.reasonCode[0].coding[0].system' AS reason_system,
    coalesce(r ->> '$.reasonCode[0].coding[0].display', r ->> '$.reasonCode[0].text') AS reason_display,
    r ->> '$.hospitalization.dischargeDisposition.coding[0].code' AS discharge_disposition,
    r ->> '$.priority.coding[0].code' AS priority_code,
    fhir_ref_id(r ->> '$.serviceProvider.reference', 'Organization') AS service_provider_id,
    list_filter(
        list_transform(fhir_list(r -> '$.participant'), lambda p: fhir_ref_id(p ->> '$.individual.reference', 'Practitioner')),
        lambda x: x IS NOT NULL
    )[1] AS practitioner_id,
    last_updated
FROM src
