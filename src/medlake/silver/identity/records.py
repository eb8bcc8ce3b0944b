"""Silver Patients (every source) → the person records the matcher reads, and the A40 must-links.

One row per current silver Patient, read with DuckDB's JSON functions over `silver.patient`:

| column | from the Patient |
|---|---|
| record_id | `id` (the silver Patient id) |
| given_name, family_name | the `official` name, else the first; the first given name |
| given_names | every given name of that name, joined with one space (for the golden record) |
| birth_date, sex | `birthDate` (ISO text), `gender` |
| address_line, city, state, postal_code | the `home` address, else the first; lines joined ", " |
| phone, email | the first telecom of that system |
| ssn | the identifier of system `http://hl7.org/fhir/sid/us-ssn` |
| mrn | `system|value` of the first identifier typed MR (v2-0203), else of the first identifier |
| source | the source name in medlake.yaml |
| last_updated | when silver last wrote the Patient (survivorship's "most recent") |

Must-links are the HL7 v2 A40 merges: a `Patient.link` of type `replaced-by` or `replaces`
(see `silver/mappings/hl7v2_adt.py`), as (record_id, record_id) pairs, both ends present.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
MERGE_LINK_TYPES = ("replaced-by", "replaces")

MATCH_COLUMNS: tuple[str, ...] = (
    "record_id", "given_name", "family_name", "birth_date", "sex", "address_line", "city", "state",
    "postal_code", "phone", "email", "ssn", "mrn", "source",
)  # fmt: skip
"""The columns handed to the matcher (matcher roles plus `record_id`)."""

# `{where}`: an optional filter on silver.patient, filled by `person_records`
_RECORDS_SQL = f"""
WITH src AS (
    SELECT id, source, last_updated, resource::JSON AS r FROM silver.patient {{where}}
),
parts AS (
    SELECT
        id, source, last_updated, r,
        coalesce(
            list_filter(fhir_list(r -> '$.name'), lambda n: n ->> 'use' = 'official')[1],
            fhir_list(r -> '$.name')[1]
        ) AS nm,
        coalesce(
            list_filter(fhir_list(r -> '$.address'), lambda a: a ->> 'use' = 'home')[1],
            fhir_list(r -> '$.address')[1]
        ) AS addr,
        fhir_list(r -> '$.identifier') AS idents,
        fhir_list(r -> '$.telecom') AS telecoms
    FROM src
),
flat AS (
    SELECT
        id AS record_id,
        fhir_list(nm -> '$.given')[1] ->> '$' AS given_name,
        nm ->> 'family' AS family_name,
        nullif(array_to_string(list_transform(fhir_list(nm -> '$.given'), lambda g: g ->> '$'), ' '), '')
            AS given_names,
        r ->> 'birthDate' AS birth_date,
        r ->> 'gender' AS sex,
        nullif(array_to_string(list_transform(fhir_list(addr -> '$.line'), lambda l: l ->> '$'), ', '), '')
            AS address_line,
        addr ->> 'city' AS city,
        addr ->> 'state' AS state,
        addr ->> 'postalCode' AS postal_code,
        list_filter(telecoms, lambda t: t ->> 'system' = 'phone')[1] ->> 'value' AS phone,
        list_filter(telecoms, lambda t: t ->> 'system' = 'email')[1] ->> 'value' AS email,
        list_filter(idents, lambda i: i ->> 'system' = '{SSN_SYSTEM}')[1] ->> 'value' AS ssn,
        coalesce(
            list_filter(idents, lambda i: list_contains(
                list_transform(fhir_list(i -> '$.type.coding'), lambda c: c ->> 'code'), 'MR'))[1],
            list_filter(idents, lambda i: coalesce(i ->> 'system', '') <> '{SSN_SYSTEM}')[1]
        ) AS mr,
        source,
        last_updated
    FROM parts
)
SELECT
    record_id, given_name, family_name, birth_date, sex, address_line, city, state, postal_code,
    phone, email, ssn,
    CASE WHEN mr ->> 'value' IS NOT NULL THEN coalesce(mr ->> 'system', '') || '|' || (mr ->> 'value') END AS mrn,
    source, given_names, last_updated
FROM flat
ORDER BY record_id
"""

_LINKS_SQL = """
WITH links AS (
    SELECT id, unnest(fhir_list(resource::JSON -> '$.link')) AS l FROM silver.patient
),
pairs AS (
    SELECT id, fhir_ref_id(l -> 'other' ->> 'reference', 'Patient') AS other
    FROM links
    WHERE l ->> 'type' IN ('replaced-by', 'replaces')
)
SELECT DISTINCT least(id, other) AS a, greatest(id, other) AS b
FROM pairs
WHERE other IS NOT NULL AND other <> id AND other IN (SELECT id FROM silver.patient)
ORDER BY a, b
"""


def _prepare(con: Any) -> None:
    from medlake.silver.views import flat

    flat.install_macros(con)
    flat.ensure_silver_tables(con, ["patient"])


def person_records(con: Any, ids: list[str] | None = None) -> pa.Table:
    """Every current silver Patient of the session `con` (with `silver.patient`) as one record
    (only those of `ids` when given)."""
    _prepare(con)
    if ids is None:
        table: pa.Table = con.sql(_RECORDS_SQL.format(where="")).to_arrow_table()
        return table
    rel = con.execute(_RECORDS_SQL.format(where="WHERE list_contains(?, id)"), [ids])
    return rel.to_arrow_table()


def merge_links(con: Any) -> list[tuple[str, str]]:
    """A40 merges as (record_id, record_id) pairs (smaller id first), each pair once."""
    _prepare(con)
    return [(str(a), str(b)) for a, b in con.execute(_LINKS_SQL).fetchall()]


def match_input(records: pa.Table) -> pa.Table:
    """The matcher's input: `MATCH_COLUMNS` as strings."""
    return pa.table({c: records.column(c).cast(pa.string()) for c in MATCH_COLUMNS})
