-- Helper macros the flat views use. `medlake.silver.views.flat.install_macros(con)` creates
-- them as TEMP macros in the session; every view SQL in this folder needs them.
--
-- fhir_instant(s)        FHIR date/dateTime/instant text -> TIMESTAMPTZ, independent of the
--                        session time zone: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` become midnight UTC
--                        of the first day; a time without an offset is read as UTC (silver
--                        writes UTC instants); anything unparseable -> NULL.
-- fhir_list(j)           a JSON array (or NULL) -> JSON[] (empty list for NULL).
-- fhir_pick(codings, systems)
--                        the first coding whose system is systems[1], else systems[2], …,
--                        else the first coding (the source coding); NULL when there is none.
-- fhir_ref_id(ref, type) `Type/<id>` -> `<id>` when the reference points at `type`, else NULL.
CREATE OR REPLACE TEMP MACRO fhir_instant(s) AS (
    CASE
        WHEN s IS NULL THEN NULL
        WHEN length(s) = 4 THEN TRY_CAST(s || '-01-01 00:00:00+00' AS TIMESTAMPTZ)
        WHEN length(s) = 7 THEN TRY_CAST(s || '-01 00:00:00+00' AS TIMESTAMPTZ)
        WHEN length(s) = 10 THEN TRY_CAST(s || ' 00:00:00+00' AS TIMESTAMPTZ)
        WHEN regexp_matches(s, '(Z|[+-]\d\d:?\d\d)$') THEN TRY_CAST(s AS TIMESTAMPTZ)
        ELSE TRY_CAST(s || '+00' AS TIMESTAMPTZ)
    END
);
CREATE OR REPLACE TEMP MACRO fhir_list(j) AS (
    CASE WHEN json_type(j) = 'ARRAY' THEN CAST(j AS JSON[]) ELSE CAST([] AS JSON[]) END
);
CREATE OR REPLACE TEMP MACRO fhir_pick(codings, systems) AS (
    coalesce(
        list_filter(
            list_transform(systems, lambda s: list_filter(codings, lambda c: c ->> 'system' = s)[1]),
            lambda x: x IS NOT NULL
        )[1],
        codings[1]
    )
);
CREATE OR REPLACE TEMP MACRO fhir_ref_id(ref, rtype) AS (
    CASE WHEN starts_with(ref, rtype || '/') THEN nullif(substr(ref, length(rtype) + 2), '') END
);
