"""Arrow schemas of the silver resource tables.

`silver/fhir/<ResourceType>/` holds the current version of each resource,
`silver/history/<ResourceType>/` every version ever written (never deleted).
"""

from __future__ import annotations

import re

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

LINEAGE_FIELDS = [
    pa.field("_tenant", pa.string()),
    pa.field("_source", pa.string()),
    pa.field("_object_sha256", pa.string()),
    pa.field("_object_name", pa.string()),
    pa.field("_record_index", pa.int64()),
    pa.field("_batch_id", pa.string()),
]

CURRENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("resource_type", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("resource", pa.string(), nullable=False),  # FHIR JSON, references rewritten to silver ids
        pa.field("content_hash", pa.string(), nullable=False),  # sha256 of the resource without meta
        pa.field("patient_id", pa.string()),  # silver id of the Patient the resource is about
        pa.field("source", pa.string()),  # source name in medlake.yaml
        pa.field("source_system", pa.string()),  # source system URI (meta.source)
        pa.field("source_id", pa.string()),  # the source's own key for the record
        pa.field("last_updated", TS),
        *LINEAGE_FIELDS,
    ]
)

HISTORY_SCHEMA = pa.schema(
    [
        *CURRENT_SCHEMA,
        # record time: when this version was the lake's current version (valid_to null: it still is;
        # valid_to = valid_from: never current, a late arrival). The names predate valid time.
        pa.field("valid_from", TS),
        pa.field("valid_to", TS),
        pa.field("reason", pa.string()),  # initial | correction | late_arrival | merge | delete
        # valid time: when the source says this version became true (HL7 MSH-7, X12 BHT/GS date,
        # FHIR meta.lastUpdated, else the object's landing time); null in rows written before it existed
        pa.field("source_time", TS),
    ]
)


def table_name(resource_type: str) -> str:
    """`MedicationRequest` → `medication_request` (the DuckDB name in schema `silver`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", resource_type).lower()
