"""Delimited rows → FHIR R4 resources, driven by a declarative YAML mapping spec.

    spec = load_spec("synthea-csv")
    kind = spec.kind_for("patients.csv")            # "patients"
    out = map_rows(spec, kind, table, ctx)          # MappingOutput(resources, problems)

A spec is validated and compiled when loaded; `map_rows` compiles it once more per mapping
context (tenant, source system, time zone are bound into the closures) and caches that. Per
row the work is a few closure calls over a tuple of column values. A row whose mapping fails
emits no resources and is reported in `problems`; other rows go on. The format is described in
docs/mapping-specs.md. Nothing here logs values.
"""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from pathlib import PurePath
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from medlake.errors import ConfigError, MappingError
from medlake.silver.ids import MEDLAKE_NAMESPACE
from medlake.silver.mappings.spec import (
    RESOURCE_TYPES,
    ConditionModel,
    Key,
    SpecModel,
    SpecProblem,
    SpecSource,
    ValueModel,
    did_you_mean,
    raise_problems,
    read_spec,
    validation_problems,
)
from medlake.silver.mappings.values import (
    DEFAULT_FORMATS,
    TIME_TYPES,
    VALUE_TYPES,
    ValueProblem,
    WithOriginal,
    check_timezone,
    original_text,
    parse_date,
    parse_datetime,
    to_boolean,
    to_decimal,
    to_integer,
)

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

SOURCE_TAG_SYSTEM = "https://medlake.dev/fhir/source"
PATIENT_ELEMENTS = ("subject", "patient", "beneficiary")
RESERVED_ROOT = frozenset({"resourceType", "id", "meta"})

Row = tuple[Any, ...]
Getter = Callable[[Row], Any]
Cond = Callable[[Row], bool]


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


@dataclass(frozen=True)
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
        self._compiled: dict[tuple[Any, ...], _CompiledKind] = {}
        problems: list[SpecProblem] = []
        for name in model.kinds:  # compile once to validate everything
            problems.extend(_Compiler(self._model, source, name, None).compile().problems)
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

    def compiled(self, kind: str, ctx: MappingContext) -> _CompiledKind:
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
            found = _Compiler(self._model, self._source, kind, ctx).compile()
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
    plans: list[_Plan],
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
                    raise _RowError(plan.id_column, plan.empty_id_message)
                rid = _silver_id(tenant, system, plan.type, source_id)
                meta = {"source": system, "tag": [{"system": SOURCE_TAG_SYSTEM, "code": source}]}
                resource = plan.build(row, rid, meta)
                patient = rid if plan.type == "Patient" else _patient_of(resource)
                emitted.append(MappedResource(plan.type, source_id, rid, resource, index, patient))
        except _RowError as exc:
            problems.append(RowProblem(index, exc.message, exc.column))
            continue
        resources.extend(emitted)


# ---------------------------------------------------------------------------- runtime


_NAMESPACE = MEDLAKE_NAMESPACE.bytes


@lru_cache(maxsize=1 << 16)
def _silver_id(tenant: str, system: str, resource_type: str, source_id: str) -> str:
    """`medlake.silver.ids.silver_id`, computed without `uuid.UUID` objects (3× faster)."""
    name = f"{tenant}|{system}|{resource_type}|{source_id}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _patient_of(resource: dict[str, Any]) -> str | None:
    for element in PATIENT_ELEMENTS:
        ref = resource.get(element)
        if isinstance(ref, dict):
            text = ref.get("reference")
            if isinstance(text, str) and text.startswith("Patient/"):
                return text[8:]
    return None


class _RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class _Plan:
    type: str
    when: Cond | None
    source_id: Getter
    id_column: str | None
    empty_id_message: str
    build: Callable[[Row, str, dict[str, Any]], dict[str, Any]]


@dataclass
class _CompiledKind:
    kind: str
    columns: list[str]  # logical column names, by index into the row tuple
    declared: tuple[str, ...] | None
    plans: list[_Plan]
    problems: list[SpecProblem]

    def columns_of(self, table: pa.Table, spec_name: str) -> list[list[Any]]:
        """The columns the mapping reads, as Python lists in row-tuple order."""
        present = [n for n in table.column_names if n != "_line"]
        folded = {n.casefold(): n for n in reversed(present)}
        wanted = list(self.declared or ()) + [
            c for c in self.columns if c not in (self.declared or ())
        ]
        actual: dict[str, str] = {}
        missing: list[str] = []
        for name in wanted:
            found = name if name in present else folded.get(name.casefold())
            if found is None:
                missing.append(name)
            else:
                actual[name] = found
        if missing and table.num_rows:
            raise MappingError(
                f"kind `{self.kind}` of mapping spec `{spec_name}` reads column(s) "
                f"{', '.join(f'`{m}`' for m in missing)} that the file does not have; "
                f"its columns are: {', '.join(present) or '(none)'}",
                kind=self.kind,
                missing=missing,
            )
        out: list[list[Any]] = []
        for name in self.columns:
            if name not in actual:
                out.append([None] * table.num_rows)
                continue
            col = table.column(actual[name])
            if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
                col = col.cast(pa.string())
            out.append(col.to_pylist())
        return out


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text: str = value.strip()
    return text or None


def _const(value: Any) -> Getter:
    return lambda row: value


_NONE: Getter = _const(None)


# ---------------------------------------------------------------------------- compiling


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
_TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass
class _Leaf:
    getter: Getter
    is_data: bool
    path: str
    key: Key


@dataclass
class _Node:
    path: str
    key: Key
    children: dict[str, _Leaf | _Node | _List] = field(default_factory=dict)


@dataclass
class _List:
    path: str
    key: Key
    items: dict[int, _Leaf | _Node] = field(default_factory=dict)


@dataclass
class _Template:
    render: Getter
    columns: list[str]
    text: str


class _Compiler:
    """Turns one kind of a validated spec model into closures; collects problems."""

    def __init__(
        self, model: SpecModel, source: SpecSource, kind: str, ctx: MappingContext | None
    ) -> None:
        self.model = model
        self.source = source
        self.kind = kind
        self.kind_model = model.kinds[kind]
        self.ctx = ctx
        self.zone = ctx.timezone if ctx is not None else "UTC"
        self.columns: list[str] = []
        self.index: dict[str, int] = {}
        self.problems: list[SpecProblem] = []
        declared = self.kind_model.columns
        self.declared = {c: c for c in declared or ()}
        self.declared_folded = {c.casefold(): c for c in reversed(declared or ())}

    def problem(self, key: Key, message: str) -> None:
        self.problems.append(self.source.error(key, message))

    def compile(self) -> _CompiledKind:
        base: Key = ("kinds", self.kind, "resources")
        plans = [self.resource(i, (*base, i)) for i in range(len(self.kind_model.resources))]
        declared = self.kind_model.columns
        return _CompiledKind(
            self.kind, self.columns, tuple(declared) if declared else None, plans, self.problems
        )

    # -- columns and templates

    def column(self, name: str, key: Key) -> int:
        name = name.strip()
        if self.kind_model.columns is not None:
            found = self.declared.get(name) or self.declared_folded.get(name.casefold())
            if found is None:
                known = list(self.declared)
                self.problem(
                    key,
                    f"unknown column `{name}`{did_you_mean(name, known)} "
                    f"Columns of kind `{self.kind}`: {', '.join(known)}",
                )
            else:
                name = found
        if name not in self.index:
            self.index[name] = len(self.columns)
            self.columns.append(name)
        return self.index[name]

    def template(self, text: str, key: Key) -> _Template:
        parts: list[str | int] = []
        names: list[str] = []
        pos = 0
        for m in _TEMPLATE_PART.finditer(text):
            parts.append(text[pos : m.start()])
            pos = m.end()
            token = m.group(0)
            if token in ("{{", "}}"):
                parts.append(token[0])
            elif token in ("{", "}"):
                self.problem(
                    key,
                    f"unbalanced `{token}` in template `{text}`; write `{token * 2}` for a literal brace",
                )
            elif not m.group(1).strip():
                self.problem(key, f"empty `{{}}` in template `{text}`; put a column name inside")
            else:
                names.append(m.group(1).strip())
                parts.append(self.column(m.group(1), key))
        parts.append(text[pos:])
        parts = [p for p in parts if p != ""]
        return _Template(_render(parts), names, text)

    def where(self, tpl: _Template) -> tuple[str | None, str]:
        if len(tpl.columns) == 1 and tpl.text.strip() == f"{{{tpl.columns[0]}}}":
            return tpl.columns[0], f"column `{tpl.columns[0]}`"
        return (tpl.columns[0] if len(tpl.columns) == 1 else None), f"template `{tpl.text}`"

    # -- resources and field trees

    def resource(self, i: int, key: Key) -> _Plan:
        res = self.kind_model.resources[i]
        if res.type not in RESOURCE_TYPES:
            self.problem(
                (*key, "type"),
                f"unknown FHIR R4 resource type `{res.type}`{did_you_mean(res.type, sorted(RESOURCE_TYPES))}",
            )
        tpl = self.template(res.id, (*key, "id"))
        column, where = self.where(tpl)
        when = None if res.when is None else self.condition(res.when, (*key, "when"))[0]
        root = _Node("", (*key, "fields"))
        for path, expr in res.fields.items():
            self.place(root, path, expr, (*key, "fields", path))
        entries = self.entries(root)
        rtype = res.type

        def build(row: Row, rid: str, meta: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"resourceType": rtype, "id": rid, "meta": meta}
            _fill(out, entries, row)
            return out

        message = f"resource `{rtype}`: its id ({where}) is empty"
        return _Plan(rtype, when, tpl.render, column, message, build)

    def place(self, root: _Node, path: str, expr: Any, key: Key) -> None:
        steps: list[tuple[str, int | None]] = []
        for seg in path.split("."):
            m = _SEGMENT.fullmatch(seg.strip())
            if m is None:
                self.problem(
                    key,
                    f"bad path `{path}`: each step is `element` or `element[n]`, joined by dots "
                    f"(e.g. `name[0].given[1]`)",
                )
                return
            steps.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
        if steps[0][0] in RESERVED_ROOT and root.path == "":
            self.problem(key, f"`{steps[0][0]}` is written by the engine; remove this path")
            return
        getter, is_data = self.value(expr, key)
        leaf = _Leaf(getter, is_data, path, key)
        node: _Node = root
        for n, (name, idx) in enumerate(steps):
            last = n == len(steps) - 1
            here = ".".join(f"{a}[{b}]" if b is not None else a for a, b in steps[: n + 1])
            child = node.children.get(name)
            if idx is None:
                if last and child is None:
                    node.children[name] = leaf
                    return
                if child is None:
                    child = node.children[name] = _Node(here, key)
                if last or not isinstance(child, _Node):
                    self.conflict(key, path, child)
                    return
                node = child
                continue
            if child is None:
                child = node.children[name] = _List(here, key)
            if not isinstance(child, _List):
                self.conflict(key, path, child)
                return
            item = child.items.get(idx)
            if last and item is None:
                child.items[idx] = leaf
                return
            if item is None:
                item = child.items[idx] = _Node(here, key)
            if last or not isinstance(item, _Node):
                self.conflict(key, path, item)
                return
            node = item

    def conflict(self, key: Key, path: str, other: _Leaf | _Node | _List) -> None:
        line = self.source.line(other.key)
        what = "set" if isinstance(other, _Leaf) else "given sub-elements"
        self.problem(
            key,
            f"path `{path}` conflicts with `{other.path}`, {what} on line {line}: an element is "
            f"either one value or a list/object of sub-elements",
        )

    def entries(self, node: _Node) -> list[Entry]:
        out: list[Entry] = []
        for name, child in node.children.items():
            getter, is_data = self.compile_child(child)
            index = getattr(getter, "column_index", None)
            out.append((name, getter if index is None else index, is_data))
        return out

    def compile_child(self, child: _Leaf | _Node | _List) -> tuple[Getter, bool]:
        if isinstance(child, _Leaf):
            return child.getter, child.is_data
        if isinstance(child, _Node):
            entries = self.entries(child)
            return _object_builder(entries), any(d for _, _, d in entries)
        items = [self.compile_child(child.items[i]) for i in sorted(child.items)]
        return _list_builder([g for g, _ in items]), any(d for _, d in items)

    # -- value expressions

    def value(self, expr: Any, key: Key) -> tuple[Getter, bool]:
        if isinstance(expr, bool | int | float):
            return _const(expr), False
        if isinstance(expr, str):
            tpl = self.template(expr, key)
            return tpl.render, bool(tpl.columns)
        if not isinstance(expr, dict):
            self.problem(
                key,
                "a value is a template string, a number, true/false or a mapping "
                f"(column, template, reference, object …); got {'nothing' if expr is None else type(expr).__name__}",
            )
            return _NONE, False
        try:
            vm = ValueModel.model_validate(expr)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, ValueModel, self.source, key))
            return _NONE, False
        getter, is_data = self.base_value(vm, key)
        if vm.when is None:
            if vm.else_ is not None:
                self.problem((*key, "else"), "`else` needs a `when`")
            return getter, is_data
        cond, cond_data = self.condition(vm.when, (*key, "when"))
        other, other_data = (
            (_NONE, False) if vm.else_ is None else self.value(vm.else_, (*key, "else"))
        )

        def conditional(row: Row) -> Any:
            return getter(row) if cond(row) else other(row)

        return conditional, is_data or cond_data or other_data

    def base_value(self, vm: ValueModel, key: Key) -> tuple[Getter, bool]:
        given = [
            k for k in ("column", "template", "reference", "object") if getattr(vm, k) is not None
        ]
        if len(given) != 1:
            which = "has none" if not given else f"has {' and '.join(f'`{g}`' for g in given)}"
            self.problem(
                key,
                f"a value needs exactly one of `column`, `template`, `reference`, `object`; this one {which}",
            )
            return _NONE, False
        kind = given[0]
        for extra in ("id", "source"):
            if getattr(vm, extra) is not None and kind != "reference":
                self.problem((*key, extra), f"`{extra}` goes with `reference`")
        if kind in ("reference", "object"):
            for extra in ("type", "format", "map", "default"):
                if getattr(vm, extra) is not None:
                    self.problem((*key, extra), f"`{extra}` cannot be used with `{kind}`")
            if vm.strict:
                self.problem((*key, "strict"), f"`strict` cannot be used with `{kind}`")
        if kind == "reference":
            return self.reference(vm, key)
        if kind == "object":
            assert vm.object is not None
            node = _Node("", (*key, "object"))
            for path, sub in vm.object.items():
                self.place(node, path, sub, (*key, "object", path))
            return self.compile_child(node)
        if vm.column is not None:
            tpl = self.template(
                f"{{{vm.column.replace('{', '{{').replace('}', '}}')}}}", (*key, "column")
            )
        else:
            assert vm.template is not None
            tpl = self.template(vm.template, (*key, "template"))
        return self.typed(vm, tpl, key), bool(tpl.columns)

    def reference(self, vm: ValueModel, key: Key) -> tuple[Getter, bool]:
        rtype = vm.reference or ""
        if rtype not in RESOURCE_TYPES:
            self.problem(
                (*key, "reference"),
                f"unknown FHIR R4 resource type `{rtype}`{did_you_mean(rtype, sorted(RESOURCE_TYPES))}",
            )
        if vm.id is None:
            self.problem(key, "`reference` needs `id`: the template of the target's source id")
            return _NONE, False
        tpl = self.template(vm.id, (*key, "id"))
        render = tpl.render
        system = self.reference_system(vm.source)
        tenant = self.ctx.tenant if self.ctx is not None else ""

        def reference(row: Row) -> Any:
            source_id = render(row)
            if source_id is None:
                return None
            return {"reference": f"{rtype}/{_silver_id(tenant, system, rtype, source_id)}"}

        return reference, bool(tpl.columns)

    def reference_system(self, source: str | None) -> str:
        if self.ctx is None:
            return ""
        if source is None or source == self.ctx.source:
            return self.ctx.system
        if source not in self.ctx.systems:
            known = sorted(self.ctx.systems)
            raise MappingError(
                f"mapping spec `{self.model.name}` refers to source `{source}`, which tenant "
                f"`{self.ctx.tenant}` does not have{did_you_mean(source, known)} "
                f"Its other sources: {', '.join(known) or '(none)'}",
                tenant=self.ctx.tenant,
                source=source,
            )
        return self.ctx.systems[source]

    def converter(self, vm: ValueModel, key: Key) -> Callable[[str], Any] | None:
        vtype = vm.type or "string"
        if vtype not in VALUE_TYPES:
            self.problem(
                (*key, "type"),
                f"unknown type `{vtype}`{did_you_mean(vtype, VALUE_TYPES)} Types: {', '.join(VALUE_TYPES)}",
            )
            return None
        if vm.format is not None and vtype not in TIME_TYPES:
            self.problem(
                (*key, "format"),
                f"`format` goes with type date, datetime or instant, not `{vtype}`",
            )
        formats = (
            DEFAULT_FORMATS if vm.format is None
            else (vm.format,) if isinstance(vm.format, str) else tuple(vm.format)
        )  # fmt: skip
        zone = self.zone
        if vtype in ("string", "code"):
            return None
        if vtype == "integer":
            return to_integer
        if vtype == "decimal":
            return to_decimal
        if vtype == "boolean":
            return to_boolean
        if vtype == "date":
            return lambda text: _keep(text, parse_date(text, formats))
        instant = vtype == "instant"
        return lambda text: _keep(text, parse_datetime(text, zone, formats, instant))

    def literal(
        self, value: Any, convert: Callable[[str], Any] | None, vtype: str, key: Key
    ) -> Any:
        """A `map` value or `default`, converted now."""
        if value is None or value == "":
            return None
        if isinstance(value, bool | int | float) and vtype in ("string", "code"):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str):
            if isinstance(value, bool | int | float):
                return value
            self.problem(key, f"expected a single value, got {type(value).__name__}")
            return None
        if convert is None:
            return value
        try:
            return convert(value)
        except ValueProblem as exc:
            self.problem(key, f"{exc.message} (type `{vtype}`)")
            return None

    def typed(self, vm: ValueModel, tpl: _Template, key: Key) -> Getter:
        convert = self.converter(vm, key)
        vtype = vm.type or "string"
        render = tpl.render
        column, where = self.where(tpl)
        default = self.literal(vm.default, convert, vtype, (*key, "default"))
        table: dict[str, Any] | None = None
        if vm.map is not None:
            table = {
                str(k): self.literal(v, convert, vtype, (*key, "map", k)) for k, v in vm.map.items()
            }
        elif vm.strict:
            self.problem((*key, "strict"), "`strict` needs a `map`")
        if table is None and convert is None and default is None:
            return render  # the fast path: a plain string
        strict, has_default = vm.strict, vm.default is not None
        allowed = ", ".join(sorted(table or ()))
        missing = object()

        def value(row: Row) -> Any:
            text = render(row)
            if text is None:
                return default
            if table is not None:
                hit = table.get(text, missing)
                if hit is not missing:
                    return hit
                if strict:
                    raise _RowError(
                        column, f"{where}: `{text}` is not in the map (allowed: {allowed})"
                    )
                if has_default:
                    return default
            if convert is None:
                return text
            try:
                return convert(text)
            except ValueProblem as exc:
                raise _RowError(column, f"{where}: {exc.message}") from None

        return value

    def condition(self, expr: Any, key: Key) -> tuple[Cond, bool]:
        if isinstance(expr, str):
            render = self.template(expr, key).render
            return (lambda row: render(row) is not None), "{" in expr
        if not isinstance(expr, dict):
            self.problem(
                key,
                "a condition is a template (true when not empty) or a mapping with `column`/`template` and `in`/`not_in`",
            )
            return (lambda row: False), False
        try:
            cm = ConditionModel.model_validate(expr)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, ConditionModel, self.source, key))
            return (lambda row: False), False
        if (cm.column is None) == (cm.template is None):
            self.problem(key, "a condition needs exactly one of `column` or `template`")
            return (lambda row: False), False
        if cm.in_ is not None and cm.not_in is not None:
            self.problem(key, "a condition takes `in` or `not_in`, not both")
        text = cm.template if cm.template is not None else "{" + (cm.column or "") + "}"
        render = self.template(
            text, (*key, "template" if cm.template is not None else "column")
        ).render
        if cm.in_ is not None:
            values = frozenset(cm.in_)
            return (lambda row: (render(row) or "") in values), True
        if cm.not_in is not None:
            excluded = frozenset(cm.not_in)
            return (lambda row: (render(row) or "") not in excluded), True
        return (lambda row: render(row) is not None), True


def _keep(text: str, value: str) -> Any:
    """`value`, with the original text beside it when the text differs."""
    return value if value == text else WithOriginal(value, original_text(text))


def _render(parts: list[str | int]) -> Getter:
    if not any(isinstance(p, int) for p in parts):
        text = "".join(str(p) for p in parts).strip()
        return _const(text or None)
    first = parts[0]
    if len(parts) == 1 and isinstance(first, int):
        i = first

        def one(row: Row) -> str | None:
            v = row[i]
            if v is None:
                return None
            text: str = v.strip()
            return text or None

        one.column_index = i  # type: ignore[attr-defined]  # lets _fill read it inline
        return one

    def many(row: Row) -> str | None:
        out: list[str] = []
        seen = False
        for p in parts:
            if isinstance(p, int):
                v = _clean(row[p])
                if v is not None:
                    seen = True
                    out.append(v)
            else:
                out.append(p)
        return ("".join(out).strip() or None) if seen else None

    return many


Entry = tuple[str, "Getter | int", bool]
"""(element name, getter — or the row index of a plain column read —, reads a column)."""


def _fill(out: dict[str, Any], entries: list[Entry], row: Row) -> bool:
    """Write the entries' values into `out`; True when a value read from a column was written.

    Hot path: a plain column read is an int (no call); other values come from their getter.
    """
    got = False
    for name, getter, is_data in entries:
        if type(getter) is int:
            v = row[getter]
            if v is None:
                continue
            v = v.strip()
            if not v:
                continue
            out[name] = v
            got = True
            continue
        v = getter(row)  # type: ignore[operator]
        if v is None:
            continue
        if type(v) is WithOriginal:
            out[name] = v.value
            out["_" + name] = v.shadow
        else:
            out[name] = v
        if is_data:
            got = True
    return got


def _object_builder(entries: list[Entry]) -> Getter:
    has_data = any(d for _, _, d in entries)

    def build(row: Row) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        got = _fill(out, entries, row)
        if (has_data and not got) or not out:
            return None
        return out

    return build


def _list_builder(getters: list[Getter]) -> Getter:
    if len(getters) == 1:
        (only,) = getters

        def single(row: Row) -> Any:
            v = only(row)
            if v is None:
                return None
            if type(v) is WithOriginal:
                return WithOriginal([v.value], [v.shadow])
            return [v]

        return single

    def build(row: Row) -> Any:
        out: list[Any] = []
        shadows: list[Any] | None = None
        for getter in getters:
            v = getter(row)
            if v is None:
                continue
            if type(v) is WithOriginal:
                if shadows is None:
                    shadows = [None] * len(out)
                out.append(v.value)
                shadows.append(v.shadow)
            else:
                out.append(v)
                if shadows is not None:
                    shadows.append(None)
        if not out:
            return None
        return WithOriginal(out, shadows) if shadows is not None else out

    return build
