"""The silver stage: bronze rows not yet consumed → FHIR resources in the silver store.

Objects are consumed in arrival order so later corrections become later versions. The
progress mark is written only after the store, so a killed run repeats work but never
loses or duplicates it (the store is idempotent).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import pyarrow as pa

from medlake.bronze.records import LINEAGE
from medlake.config import ProjectConfig, SourceConfig, TenantConfig
from medlake.lake import delta, quarantine
from medlake.lake.paths import TenantLake
from medlake.silver import progress, store, terminology, time_report
from medlake.silver.mappings.local_time import collect_time_adjustments
from medlake.silver.phi import labels as phi_labels
from medlake.silver.source_time import fhir_time, record_times

CHUNK_ROWS = 250_000


@dataclass
class SilverStats:
    rows_in: int = 0
    resources: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    unmapped_segments: int = 0
    time_adjusted: int = 0
    """Values whose local time was ambiguous or nonexistent (DST); see `meta.time_adjustments`."""
    late_arrivals: int = 0
    """Versions older (in valid time) than the current one: kept in history, not made current."""
    codings_added: int = 0
    """Normalized codings added beside source codings (ICD-10-CM from ICD-9, 11-digit NDC, maps)."""
    by_type: dict[str, int] = field(default_factory=dict)

    def add(self, s: store.StoreStats) -> None:
        self.inserted += s.inserted
        self.updated += s.updated
        self.unchanged += s.unchanged
        self.late_arrivals += s.late_arrivals
        for k, v in s.by_type.items():
            self.by_type[k] = self.by_type.get(k, 0) + v


@dataclass(frozen=True)
class _Pending:
    landed: int  # _landed_at as microseconds: sorts like the timestamp, without datetimes
    name: str
    kind: str
    sha: str
    rows: int


def _pending_objects(lake: TenantLake, uri: str, kind: str, done: set[str]) -> list[_Pending]:
    """Objects of one bronze table that silver has not consumed yet."""
    meta = delta.read(uri, columns=["_object_sha256", "_landed_at", "_object_name"], options=lake.delta_options())
    if meta is None:
        return []
    objs: dict[str, list[Any]] = {}
    landed = meta.column("_landed_at").cast(pa.int64())
    for sha, at, name in zip(*(c.to_pylist() for c in (meta.column("_object_sha256"), landed, meta.column("_object_name"))), strict=True):
        if sha in done:
            continue
        if sha in objs:
            objs[sha][2] += 1
        else:
            objs[sha] = [at, name, 1]
    return [_Pending(at, name, kind, sha, n) for sha, (at, name, n) in objs.items()]


def _chunks(pending: list[_Pending]) -> Iterator[tuple[str, list[str]]]:
    """Objects of every kind in arrival order, cut into chunks of consecutive same-kind objects.

    Arrival order across kinds matters: a later file of another kind (a re-sent extract in a
    drifted layout, say) must become the later version of the records it repeats.
    """
    chunk: list[str] = []
    kind, rows = "", 0
    for p in sorted(pending, key=lambda p: (p.landed, p.name)):
        if chunk and (p.kind != kind or rows >= CHUNK_ROWS):
            yield kind, chunk
            chunk, rows = [], 0
        chunk.append(p.sha)
        kind = p.kind
        rows += p.rows
    if chunk:
        yield kind, chunk


def _read(lake: TenantLake, uri: str, shas: list[str]) -> pa.Table:
    t = delta.read_where_in(uri, "_object_sha256", shas, options=lake.delta_options())
    assert t is not None
    rank = {s: i for i, s in enumerate(shas)}
    order = pa.array([rank[s] for s in t.column("_object_sha256").to_pylist()])
    t = t.append_column("__order", order)
    return t.sort_by([("__order", "ascending"), ("_record_index", "ascending")]).drop(["__order"])


def run_silver(
    project: ProjectConfig,
    tenant: TenantConfig,
    source: SourceConfig,
    lake: TenantLake,
    batch_id: str,
    on_rows: Callable[[int], None] | None = None,
) -> SilverStats:
    with _no_gc():
        return _run_silver(project, tenant, source, lake, batch_id, on_rows)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the stage: a chunk allocates hundreds of
    thousands of dicts, lists and records, none in cycles, and the collector's passes over
    them cost 10–20% of the stage. Reference counting still frees every chunk; the
    collector's previous state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_silver(
    project: ProjectConfig,
    tenant: TenantConfig,
    source: SourceConfig,
    lake: TenantLake,
    batch_id: str,
    on_rows: Callable[[int], None] | None,
) -> SilverStats:
    stats = SilverStats()
    mappers: dict[str, Mapper] = {}
    if source.kind == "delimited":
        from medlake.bronze.stage import load_source_spec

        spec: Any = load_source_spec(project, source)
        for kind in spec.kinds:

            def mapper(t: pa.Table, k: str = kind) -> tuple[list[store.SilverRecord], list[quarantine.Quarantined]]:
                return _map_delimited(spec, k, t, tenant, source)

            mappers[kind] = mapper
    elif source.kind == "fhir":
        mappers["resources"] = lambda t: _map_fhir(t, tenant, source)
    elif source.kind == "hl7v2":
        from medlake.bronze.hl7v2 import HL7_KIND

        mappers[HL7_KIND] = lambda t: _map_hl7v2(t, tenant, source, lake, batch_id, stats)
    elif source.kind == "x12":
        from medlake.bronze.x12 import X12_KIND

        mappers[X12_KIND] = lambda t: _map_x12(t, tenant, source, lake, batch_id, stats)
    pending: list[_Pending] = []
    for kind in mappers:
        done = progress.done(lake, "silver", source.name, kind)
        pending.extend(_pending_objects(lake, lake.bronze(source.name, kind), kind, done))
    terms = terminology.terminology_context(project, tenant, source)  # concept maps validated here
    for kind, shas in _chunks(pending):
        table = _read(lake, lake.bronze(source.name, kind), shas)
        with collect_time_adjustments() as adjusted:
            records, problems = mappers[kind](table)
        time_report.record(lake, source.name, adjusted, batch_id)
        stats.time_adjusted += sum(adjusted.values())
        stats.rows_in += table.num_rows
        stats.resources += len(records)
        stats.quarantined += len(problems)
        quarantine.write(lake, problems, batch_id)
        codes = terminology.normalize(records, terms)
        stats.codings_added += sum(codes.added.values())
        terminology.record_unmapped(lake, source.name, codes.unmapped, batch_id)
        phi_labels.apply(records)  # meta.security: outside the content hash
        stats.add(store.write(lake, tenant.name, records))
        progress.mark(lake, "silver", source.name, kind, shas, batch_id)
        if on_rows:
            on_rows(table.num_rows)
    return stats


Mapper = Callable[[pa.Table], tuple[list[store.SilverRecord], list[quarantine.Quarantined]]]


class _Mapped(Protocol):
    """What every mapping engine returns per resource (delimited, HL7 v2, X12)."""

    resource_type: str
    source_id: str
    id: str
    resource: dict[str, Any]
    record_index: int
    patient_id: str | None


def _records(
    resources: Sequence[_Mapped],
    source: str,
    system: str,
    lineage: tuple[list[str], list[str], list[int], list[str]],
    times: list[int | None] | None = None,
) -> list[store.SilverRecord]:
    """Mapped resources as silver records, each pointing back to its bronze row and carrying
    that row's valid time (`times`, from `source_time.record_times`)."""
    shas, names, idxs, batches = lineage
    at = times or [None] * len(shas)
    return [
        store.SilverRecord(
            r.id, r.resource_type, r.resource, r.patient_id, source, system, r.source_id,
            shas[r.record_index], names[r.record_index], idxs[r.record_index], batches[r.record_index],
            at[r.record_index],
        )
        for r in resources
    ]


def _lineage(table: pa.Table) -> tuple[list[str], list[str], list[int], list[str]]:
    return (
        table.column("_object_sha256").to_pylist(),
        table.column("_object_name").to_pylist(),
        table.column("_record_index").to_pylist(),
        table.column("_batch_id").to_pylist(),
    )


def _map_delimited(
    spec: Any, kind: str, table: pa.Table, tenant: TenantConfig, source: SourceConfig
) -> tuple[list[store.SilverRecord], list[quarantine.Quarantined]]:
    from medlake.silver.mappings.delimited import MappingContext, map_rows

    system = tenant.system_of(source)
    ctx = MappingContext(
        tenant=tenant.name,
        source=source.name,
        system=system,
        timezone=tenant.zone_of(source),
        systems={s.name: tenant.system_of(s) for s in tenant.sources},
    )
    data = table.drop([c for c in LINEAGE if c in table.column_names])
    out = map_rows(spec, kind, data, ctx)
    shas, names, idxs, batches = _lineage(table)
    records = _records(out.resources, source.name, system, (shas, names, idxs, batches), record_times(table, "UTC"))
    problems = []
    for p in out.problems:
        row = data.slice(p.record_index, 1).to_pylist()[0]
        line = row.get("_line")
        problems.append(
            quarantine.Quarantined(
                source.name, "silver", shas[p.record_index], names[p.record_index], idxs[p.record_index],
                f"line {line}" if line is not None else f"record {idxs[p.record_index]}",
                f"{names[p.record_index]}: line {line}: {p.message}",
                orjson.dumps(row).decode(),
            )
        )
    return records, problems


def _map_fhir(table: pa.Table, tenant: TenantConfig, source: SourceConfig) -> tuple[list[store.SilverRecord], list[quarantine.Quarantined]]:
    from medlake.silver.mappings.fhir_passthrough import BronzeColumns, FhirContext, map_object

    system = tenant.system_of(source)
    ctx = FhirContext(tenant.name, source.name, system, keep_ids=source.ids == "keep")
    records: list[store.SilverRecord] = []
    problems: list[quarantine.Quarantined] = []
    n = table.num_rows
    col = {c: table.column(c).to_pylist() for c in _FHIR_COLUMNS if c in table.column_names}
    for c in _FHIR_COLUMNS:
        col.setdefault(c, [None] * n)
    shas, names, batches = col["_object_sha256"], col["_object_name"], col["_batch_id"]
    landed = record_times(table, "UTC")
    Record = store.SilverRecord
    start = 0
    while start < n:  # the rows come grouped by object
        sha = shas[start]
        end = start + 1
        while end < n and shas[end] == sha:
            end += 1
        name, batch = names[start], batches[start]
        part = BronzeColumns(*(col[c][start:end] for c in _FHIR_COLUMNS[:7]))
        mapped, probs = map_object(part, ctx)
        records.extend(
            Record(
                m.id, m.resource_type, m.resource, m.patient_id, source.name, system, m.source_id, sha, name, m.record_index,
                batch, fhir_time(m.resource, landed[start]),
            )
            for m in mapped
        )
        problems.extend(
            quarantine.Quarantined(source.name, "silver", sha, name, p.record_index, p.position, f"{name}: {p.position}: {p.message}", None)
            for p in probs
        )
        start = end
    return records, problems


def _map_hl7v2(
    table: pa.Table, tenant: TenantConfig, source: SourceConfig, lake: TenantLake, batch_id: str, stats: SilverStats
) -> tuple[list[store.SilverRecord], list[quarantine.Quarantined]]:
    """Bronze HL7 messages → FHIR resources; unmapped segments and message types are counted
    in `meta.unmapped` (the messages themselves stay in bronze)."""
    from medlake.formats.hl7v2 import parse_hl7
    from medlake.silver import unmapped
    from medlake.silver.mappings.hl7v2 import map_messages
    from medlake.silver.mappings.hl7v2_common import Hl7Context

    system = tenant.system_of(source)
    ctx = Hl7Context(tenant.name, source.name, system, tenant.zone_of(source))
    raws = table.column("raw").to_pylist()
    shas, names, idxs, batches = _lineage(table)
    messages = []
    for row, raw in enumerate(raws):
        parsed = parse_hl7(raw, name=names[row], errors="ignore")
        if parsed.messages:
            messages.append((row, parsed.messages[0]))
    out = map_messages(messages, ctx)
    records = _records(out.resources, source.name, system, (shas, names, idxs, batches), record_times(table, ctx.timezone))
    problems = [
        quarantine.Quarantined(
            source.name, "silver", shas[p.record_index], names[p.record_index], idxs[p.record_index],
            p.position.replace(f"message {p.record_index + 1}", f"message {idxs[p.record_index] + 1}", 1),
            f"{names[p.record_index]}: {p.message}",
            raws[p.record_index],
        )
        for p in out.problems
    ]
    unmapped.record(lake, source.name, out.unmapped, out.unmapped_messages, batch_id)
    stats.unmapped_segments += sum(out.unmapped.values())
    return records, problems


def _map_x12(
    table: pa.Table, tenant: TenantConfig, source: SourceConfig, lake: TenantLake, batch_id: str, stats: SilverStats
) -> tuple[list[store.SilverRecord], list[quarantine.Quarantined]]:
    """Bronze X12 transaction sets → FHIR resources; balancing checks go to `meta.x12_balance`,
    sets of a family with no mapping (and 4010 sets) are counted in `meta.unmapped`."""
    from collections import Counter

    from medlake.formats.x12 import parse_x12
    from medlake.silver import balance, unmapped
    from medlake.silver.mappings.x12 import map_sets
    from medlake.silver.mappings.x12_common import X12Context

    system = tenant.system_of(source)
    ctx = X12Context(tenant.name, source.name, system, tenant.zone_of(source))
    raws = table.column("raw").to_pylist()
    isas, gss = table.column("isa").to_pylist(), table.column("gs").to_pylist()
    shas, names, idxs, batches = _lineage(table)
    sets = []
    for row, (isa, gs, raw) in enumerate(zip(isas, gss, raws, strict=True)):
        parsed = parse_x12((isa or "") + (gs or "") + raw, name=names[row], errors="ignore")
        found = list(parsed.transaction_sets())
        if found:
            sets.append((row, found[-1]))
    out = map_sets(sets, ctx)
    records = _records(out.resources, source.name, system, (shas, names, idxs, batches), record_times(table, ctx.timezone))
    problems = [
        quarantine.Quarantined(
            source.name, "silver", shas[p.record_index], names[p.record_index], idxs[p.record_index],
            p.position, f"{names[p.record_index]}: {p.position}: {p.message}", None,
        )
        for p in out.problems
    ]
    balance.record(lake, source.name, out.balances, shas, names, idxs, batch_id)
    unmapped.record(lake, source.name, Counter(), out.unmapped, batch_id)
    stats.unmapped_segments += sum(out.unmapped.values())
    return records, problems


# the fields of `BronzeColumns` in order, then the lineage the records carry
_FHIR_COLUMNS = (
    "resource_type", "resource_id", "full_url", "if_none_exist", "entry_index", "resource", "_record_index",
    "_object_sha256", "_object_name", "_batch_id",
)
