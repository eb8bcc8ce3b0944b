"""FHIR objects (Bundles of any type, NDJSON, single resources) → one bronze row per resource."""

from __future__ import annotations

import orjson
import pyarrow as pa

from medlake.bronze.delimited import BronzeOutput
from medlake.bronze.records import ObjectRef, with_lineage
from medlake.errors import ParseError
from medlake.lake.quarantine import Quarantined

FHIR_BRONZE_SCHEMA = pa.schema(
    [
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("full_url", pa.string()),
        ("request_method", pa.string()),
        ("request_url", pa.string()),
        ("if_none_exist", pa.string()),
        ("entry_index", pa.int64()),
        ("container", pa.string()),
        ("resource", pa.string()),
    ]
)


def to_bronze(data: bytes, obj: ObjectRef) -> BronzeOutput:
    from medlake.formats.fhir import parse_fhir

    try:
        result = parse_fhir(data, name=obj.name, errors="collect")
    except ParseError as err:
        pos = str(err.context.get("position", "file"))
        whole = Quarantined(obj.source, "bronze", obj.sha256, obj.name, -1, pos, str(err))
        return BronzeOutput("resources", None, [whole])
    rows = []
    for e in result.entries:
        r = e.resource
        rid = r.get("id")
        rows.append(
            {
                "resource_type": r.get("resourceType"),
                "resource_id": rid if isinstance(rid, str) else None,
                "full_url": e.full_url,
                "request_method": e.request_method,
                "request_url": e.request_url,
                "if_none_exist": e.if_none_exist,
                "entry_index": e.index,
                "container": result.container,
                "resource": orjson.dumps(r).decode(),
            }
        )
    q = [
        Quarantined(
            obj.source,
            "bronze",
            obj.sha256,
            obj.name,
            p.record_index if p.record_index is not None else -1,
            p.position,
            f"{obj.name}: {p.position}: {p.message}",
            p.text,
        )
        for p in result.problems
    ]
    table = pa.Table.from_pylist(rows, schema=FHIR_BRONZE_SCHEMA)
    return BronzeOutput("resources", with_lineage(table, obj), q, len(rows) + len(q))
