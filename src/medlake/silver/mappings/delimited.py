"""Delimited rows → FHIR R4 resources, driven by a declarative YAML mapping spec.

    spec = load_spec("synthea-csv")
    kind = spec.kind_for("patients.csv")            # "patients"
    out = map_rows(spec, kind, table, ctx)          # MappingOutput(resources, problems)

A spec is validated and compiled when loaded; `map_rows` compiles it once more per mapping
context (tenant, source system, time zone are bound into the closures) and caches that. Per
row the work is a few closure calls over a tuple of column values. A row whose mapping fails
emits no resources and is reported in `problems`; other rows go on. The format is described in
docs/mapping-specs.md. Nothing here logs values.

Compiling is `medlake.silver.mappings.compile`; the closures it builds are
`medlake.silver.mappings.closures`.
"""

from __future__ import annotations

import fnmatch
import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import PurePath
from typing import Any

import pyarrow as pa

from medlake.errors import ConfigError
from medlake.silver.ids import SOURCE_TAG_SYSTEM, silver_id
from medlake.silver.mappings.closures import CompiledKind, Plan, Row, RowError
from medlake.silver.mappings.compile import Compiler
from medlake.silver.mappings.spec import (
    SpecModel,
    SpecProblem,
    SpecSource,
    did_you_mean,
    raise_problems,
    read_spec,
)
from medlake.silver.mappings.values import ValueProblem, check_timezone

__all__ = [
    "KindSpec",
    "MappedResource",
    "MappingContext",
    "MappingOutput",
    "MappingSpec",
    "RowProblem",
    "load_spec",
    "map_rows",
]

PATIENT_ELEMENTS = ("subject", "patient", "beneficiary")


# ---------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class MappingContext:
    """Who the rows belong to: bound into the compiled mapping."""

    tenant: str
    source: str
    """Source name, e.g. `ehr` (written to `meta.tag`)."""
    system: str
    """Source system URI (written to `meta.source`; part of every silver id)."""
    timezone: str
    """IANA zone for timestamps without an offset."""
    systems: Mapping[str, str] = field(default_factory=dict)
    """Other sources of the tenant, name → system URI, for `reference: … source: other`."""


@dataclass(slots=True)
class MappedResource:
    resource_type: str
    source_id: str
    id: str
    resource: dict[str, Any]
    record_index: int
    patient_id: str | None


@dataclass(frozen=True)
class RowProblem:
    record_index: int
    message: str
    """Quotes the offending value: for quarantine, never for logs."""
    column: str | None


@dataclass
class MappingOutput:
    resources: list[MappedResource]
    problems: list[RowProblem]


@dataclass(frozen=True)
class KindSpec:
    """One kind of file of a spec."""

    name: str
    match: tuple[str, ...]
    columns: tuple[str, ...] | None
    resource_types: tuple[str, ...]


class MappingSpec:
    """A loaded, validated mapping spec. Build with `load_spec`."""

    def __init__(self, model: SpecModel, source: SpecSource) -> None:
        self.name = model.name
        self.description = model.description
        self.file = source.file
        self._model = model
        self._source = source
        self.kinds: Mapping[str, KindSpec] = {
            name: KindSpec(
                name,
                tuple(k.match),
                tuple(k.columns) if k.columns is not None else None,
                tuple(r.type for r in k.resources),
            )
            for name, k in model.kinds.items()
        }
        self._compiled: dict[tuple[Any, ...], CompiledKind] = {}
        problems: list[SpecProblem] = []
        for name in model.kinds:  # compile once to validate everything
            problems.extend(Compiler(self._model, source, name, None).compile().problems)
        raise_problems(problems)

    def __repr__(self) -> str:
        return f"MappingSpec(name={self.name!r}, kinds={list(self.kinds)!r})"

    def kind_for(self, file_name: str) -> str | None:
        """The kind whose `match` globs match the base name of `file_name` (any case)."""
        base = PurePath(file_name.replace("\\", "/")).name.lower()
        for name, kind in self.kinds.items():
            if any(fnmatch.fnmatchcase(base, glob.lower()) for glob in kind.match):
                return name
        return None

    def compiled(self, kind: str, ctx: MappingContext) -> CompiledKind:
        """The closures of `kind` bound to `ctx` (cached)."""
        key = (
            kind,
            ctx.tenant,
            ctx.source,
            ctx.system,
            ctx.timezone,
            tuple(sorted(ctx.systems.items())),
        )
        found = self._compiled.get(key)
        if found is None:
            if kind not in self.kinds:
                raise ConfigError(
                    f"mapping spec `{self.name}` has no kind `{kind}`{did_you_mean(kind, list(self.kinds))} "
                    f"Kinds: {', '.join(self.kinds)}",
                    spec=self.name,
                    kind=kind,
                )
            try:
                check_timezone(ctx.timezone)
            except ValueProblem as exc:
                raise ConfigError(f"time zone of source `{ctx.source}`: {exc.message}") from exc
            found = Compiler(self._model, self._source, kind, ctx).compile()
            raise_problems(found.problems)
            self._compiled[key] = found
        return found


def load_spec(name_or_path: str) -> MappingSpec:
    """A shipped spec by name (`synthea-csv`) or a spec file by path; ConfigError if invalid."""
    model, source = read_spec(name_or_path)
    return MappingSpec(model, source)


def map_rows(spec: MappingSpec, kind: str, table: pa.Table, ctx: MappingContext) -> MappingOutput:
    """Map each row of `table` (string columns, plus `_line`, ignored) to FHIR resources."""
    compiled = spec.compiled(kind, ctx)
    columns = compiled.columns_of(table, spec.name)
    rows = zip(*columns, strict=True) if columns else repeat((), table.num_rows)
    resources: list[MappedResource] = []
    problems: list[RowProblem] = []
    with _no_gc():
        _map(rows, compiled.plans, ctx, resources, problems)
    return MappingOutput(resources, problems)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a batch allocates many small dicts and lists, none
    in cycles, and gen-2 collections over them halve throughput. Reference counting still frees
    everything; the collector's previous state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _map(
    rows: Iterable[Row],
    plans: list[Plan],
    ctx: MappingContext,
    resources: list[MappedResource],
    problems: list[RowProblem],
) -> None:
    tenant, system, source = ctx.tenant, ctx.system, ctx.source
    for index, row in enumerate(rows):
        emitted: list[MappedResource] = []
        try:
            for plan in plans:
                if plan.when is not None and not plan.when(row):
                    continue
                source_id = plan.source_id(row)
                if source_id is None:
                    raise RowError(plan.id_column, plan.empty_id_message)
                rid = silver_id(tenant, system, plan.type, source_id)
                meta = {"source": system, "tag": [{"system": SOURCE_TAG_SYSTEM, "code": source}]}
                resource = plan.build(row, rid, meta)
                patient = rid if plan.type == "Patient" else _patient_of(resource)
                emitted.append(MappedResource(plan.type, source_id, rid, resource, index, patient))
        except RowError as exc:
            problems.append(RowProblem(index, exc.message, exc.column))
            continue
        resources.extend(emitted)


def _patient_of(resource: dict[str, Any]) -> str | None:
    for element in PATIENT_ELEMENTS:
        ref = resource.get(element)
        if isinstance(ref, dict):
            text = ref.get("reference")
            if isinstance(text, str) and text.startswith("Patient/"):
                return text[8:]
    return None
