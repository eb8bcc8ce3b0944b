"""The bronze stage: landed objects of one source → bronze Delta tables (`<source>__<kind>`).

Idempotent per object: an object already present in its bronze table (by `_object_sha256`)
is never appended twice, even if a previous run died between the append and the manifest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from medlake.bronze import delimited, fhir, hl7v2, schemas, x12
from medlake.bronze.records import ObjectRef
from medlake.config import ProjectConfig, SourceConfig, TenantConfig
from medlake.lake import delta, manifest, quarantine
from medlake.lake.paths import TenantLake

FLUSH_ROWS = 500_000
PENDING_REASON: dict[str, str] = {}
"""Source kinds that are landed but not parsed yet, and what the manifest says about them."""


@dataclass
class BronzeStats:
    objects: int = 0
    rows: int = 0
    quarantined_records: int = 0
    quarantined_objects: int = 0
    duplicates: int = 0
    """Records already in bronze under their key (HL7 retransmissions), not appended again."""
    pending: int = 0
    tables: dict[str, int] = field(default_factory=dict)


def load_source_spec(project: ProjectConfig, source: SourceConfig) -> object:
    from medlake.silver.mappings.delimited import load_spec

    assert source.mapping is not None
    ref = source.mapping
    if ref.endswith((".yaml", ".yml")):
        ref = project.resolve_location(ref)
    return load_spec(ref)


def run_bronze(
    project: ProjectConfig,
    tenant: TenantConfig,
    source: SourceConfig,
    lake: TenantLake,
    batch_id: str,
    on_object: Callable[[], None] | None = None,
) -> BronzeStats:
    stats = BronzeStats()
    # `pending` objects landed before their kind had a parser; they are picked up once it has one
    # and delimited files held for schema drift are looked at again (the policy may have changed)
    todo = sorted(
        (o for o in manifest.objects(lake, source.name).values()
         if o.status in ("landed", "pending") or (o.status == "quarantined" and schemas.is_held(o.reason))),
        key=lambda o: (o.received_at, o.original_name),
    )  # fmt: skip
    if not todo:
        return stats
    if source.kind in PENDING_REASON:
        fresh = [o for o in todo if o.status == "landed"]
        manifest.record(lake, [_event(o, "pending", PENDING_REASON[source.kind], batch_id) for o in fresh])
        stats.pending = len(todo)
        return stats
    spec = load_source_spec(project, source) if source.kind == "delimited" else None
    registry = schemas.SchemaRegistry(lake, source.name, source.schema_drift, spec, batch_id) if spec else None
    pending: dict[str, list[pa.Table]] = defaultdict(list)
    pending_objs: dict[str, list[manifest.ObjectInfo]] = defaultdict(list)
    done_events: dict[str, list[manifest.Event]] = defaultdict(list)  # by kind; "" = whole-object
    q_items: list[quarantine.Quarantined] = []

    def flush(kind: str) -> None:
        tables = pending.pop(kind, [])
        objs = pending_objs.pop(kind, [])
        if tables:
            uri = lake.bronze(source.name, kind)
            already = _objects_in(uri, lake, [o.sha256 for o in objs])
            fresh = [t for t, o in zip(tables, objs, strict=True) if o.sha256 not in already and t.num_rows]
            fresh = _same_case(uri, lake, fresh)
            if fresh and kind == hl7v2.HL7_KIND:
                fresh = _new_records(uri, lake, fresh, stats, "message_key")
            elif fresh and kind == x12.X12_KIND:
                fresh = _new_records(uri, lake, fresh, stats, "set_key")
            if fresh:
                table = pa.concat_tables(fresh, promote_options="permissive")
                delta.append(uri, table, lake.delta_options())
                stats.tables[kind] = stats.tables.get(kind, 0) + table.num_rows
        # quarantine first, then the manifest: an object is marked done only after all of it is safe
        quarantine.write(lake, q_items, batch_id)
        q_items.clear()
        manifest.record(lake, done_events.pop(kind, []))

    for o in todo:
        ref = ObjectRef(lake.tenant, source.name, o.sha256, o.original_name, o.received_at, batch_id)
        data = lake.storage.read_bytes(o.key)
        if spec is not None:
            kinds = list(getattr(spec, "kinds", {}))
            out = delimited.to_bronze(data, source.format, spec.kind_for(o.original_name), kinds, ref)  # type: ignore[attr-defined]
        elif source.kind == "hl7v2":
            out = hl7v2.to_bronze(data, ref)
        elif source.kind == "x12":
            out = x12.to_bronze(data, ref)
        else:
            out = fhir.to_bronze(data, ref)
        stats.objects += 1
        if registry is not None and out.kind is not None and out.table is not None:
            verdict = registry.check(out.kind, out.table, o.original_name, o.sha256, held=o.status == "quarantined")
            if not verdict.land:
                stats.quarantined_objects += 1
                if o.status != "quarantined":  # held before: nothing new to write
                    q_items.append(delimited.whole_object(ref, "header", verdict.reason or ""))
                    done_events[""].append(_event(o, "quarantined", verdict.manifest_reason, batch_id))
                if on_object:
                    on_object()
                continue
        q_items.extend(out.quarantined)
        if out.table is None:
            stats.quarantined_objects += 1
            # the manifest names where, never what: the full reason (which may quote the
            # bytes) stays in the quarantine table
            where = out.quarantined[0].position if out.quarantined else "file"
            done_events[""].append(_event(o, "quarantined", f"unreadable at {where}; see meta.quarantine", batch_id))
        else:
            assert out.kind is not None
            stats.rows += out.table.num_rows
            stats.quarantined_records += len(out.quarantined)
            pending[out.kind].append(out.table)
            pending_objs[out.kind].append(o)
            note = f"{out.table.num_rows} records to {source.name}__{out.kind}; {len(out.quarantined)} quarantined"
            done_events[out.kind].append(_event(o, "bronzed", note, batch_id))
            if sum(t.num_rows for t in pending[out.kind]) >= FLUSH_ROWS:
                flush(out.kind)
        if on_object:
            on_object()
    for kind in [*pending, *done_events]:
        flush(kind)
    return stats


def _new_records(uri: str, lake: TenantLake, tables: list[pa.Table], stats: BronzeStats, key: str) -> list[pa.Table]:
    """Drop records (HL7 messages, X12 sets) whose `key` is already in the table or earlier in
    this flush: a retransmission or a re-sent file lands once."""
    keys = [k for t in tables for k in t.column(key).to_pylist()]
    existing = delta.read_where_in(uri, key, sorted(set(keys)), columns=[key], options=lake.delta_options())
    seen = set() if existing is None else set(existing.column(key).to_pylist())
    out = []
    for t in tables:
        keep = []
        for k in t.column(key).to_pylist():
            keep.append(k not in seen)
            seen.add(k)
        dropped = keep.count(False)
        stats.duplicates += dropped
        if dropped:
            t = t.filter(pa.array(keep))
        if t.num_rows:
            out.append(t)
    return out


def _same_case(uri: str, lake: TenantLake, tables: list[pa.Table]) -> list[pa.Table]:
    """Delta column names are case-insensitive: a later file whose header says `Phone` where the
    table says `PHONE` is written under the table's spelling (the values are untouched)."""
    if not tables:
        return tables
    existing = delta.dataset(uri, lake.delta_options())
    canonical = {n.lower(): n for n in (existing.schema.names if existing is not None else [])}
    out = []
    for t in tables:
        names = []
        for n in t.column_names:
            names.append(canonical.setdefault(n.lower(), n))
        out.append(t.rename_columns(names) if names != t.column_names else t)
    return out


def _objects_in(uri: str, lake: TenantLake, shas: list[str]) -> set[str]:
    t = delta.read_where_in(uri, "_object_sha256", shas, columns=["_object_sha256"], options=lake.delta_options())
    return set() if t is None else set(t.column("_object_sha256").unique().to_pylist())


def _event(o: manifest.ObjectInfo, event: str, reason: str | None, batch_id: str) -> manifest.Event:
    return manifest.Event(o.source, o.sha256, o.key, o.original_name, o.size, o.received_at, event, reason, batch_id)
