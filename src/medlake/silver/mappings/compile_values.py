"""Compiling the values of a mapping spec: columns, templates, typed values, references, conditions.

`ValueCompiler` turns each value expression of one kind into a `Getter` closure (see
`medlake.silver.mappings.closures`) and collects what is wrong with the spec as problems
instead of stopping at the first. Field paths, resources and nested `object` values are
`medlake.silver.mappings.compile.Compiler`'s, which extends this class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from medlake.errors import MappingError
from medlake.silver.ids import silver_id
from medlake.silver.mappings.closures import (
    NONE,
    Cond,
    Getter,
    Row,
    RowError,
    const,
    keep,
    render_parts,
)
from medlake.silver.mappings.spec import (
    RESOURCE_TYPES,
    ConditionModel,
    Key,
    SpecModel,
    SpecProblem,
    SpecSource,
    ValueModel,
    did_you_mean,
    validation_problems,
)
from medlake.silver.mappings.values import (
    DEFAULT_FORMATS,
    TIME_TYPES,
    VALUE_TYPES,
    ValueProblem,
    convert_datetime,
    parse_date,
    to_boolean,
    to_decimal,
    to_integer,
)

if TYPE_CHECKING:
    from medlake.silver.mappings.delimited import MappingContext

_TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass
class Template:
    render: Getter
    columns: list[str]
    text: str


class ValueCompiler:
    """Compiles the columns, templates, values and conditions of one kind; collects problems.

    The field tree of resources and `object` values is `Compiler`'s (`object_value`).
    """

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

    def template(self, text: str, key: Key) -> Template:
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
        return Template(render_parts(parts), names, text)

    def where(self, tpl: Template) -> tuple[str | None, str]:
        if len(tpl.columns) == 1 and tpl.text.strip() == f"{{{tpl.columns[0]}}}":
            return tpl.columns[0], f"column `{tpl.columns[0]}`"
        return (tpl.columns[0] if len(tpl.columns) == 1 else None), f"template `{tpl.text}`"
    # -- value expressions

    def object_value(self, fields: dict[str, Any], key: Key) -> tuple[Getter, bool]:
        """An `object` value: its fields form a tree of their own (`Compiler.object_value`)."""
        raise NotImplementedError

    def value(self, expr: Any, key: Key) -> tuple[Getter, bool]:
        if isinstance(expr, bool | int | float):
            return const(expr), False
        if isinstance(expr, str):
            tpl = self.template(expr, key)
            return tpl.render, bool(tpl.columns)
        if not isinstance(expr, dict):
            self.problem(
                key,
                "a value is a template string, a number, true/false or a mapping "
                f"(column, template, reference, object …); got {'nothing' if expr is None else type(expr).__name__}",
            )
            return NONE, False
        try:
            vm = ValueModel.model_validate(expr)
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, ValueModel, self.source, key))
            return NONE, False
        getter, is_data = self.base_value(vm, key)
        if vm.when is None:
            if vm.else_ is not None:
                self.problem((*key, "else"), "`else` needs a `when`")
            return getter, is_data
        cond, cond_data = self.condition(vm.when, (*key, "when"))
        other, other_data = (
            (NONE, False) if vm.else_ is None else self.value(vm.else_, (*key, "else"))
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
            return NONE, False
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
            return self.object_value(vm.object, key)
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
            return NONE, False
        tpl = self.template(vm.id, (*key, "id"))
        render = tpl.render
        system = self.reference_system(vm.source)
        tenant = self.ctx.tenant if self.ctx is not None else ""

        def reference(row: Row) -> Any:
            source_id = render(row)
            if source_id is None:
                return None
            return {"reference": f"{rtype}/{silver_id(tenant, system, rtype, source_id)}"}

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
            return lambda text: keep(text, parse_date(text, formats))
        instant = vtype == "instant"
        return lambda text: convert_datetime(text, zone, formats, instant)

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

    def typed(self, vm: ValueModel, tpl: Template, key: Key) -> Getter:
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
                    raise RowError(
                        column, f"{where}: `{text}` is not in the map (allowed: {allowed})"
                    )
                if has_default:
                    return default
            if convert is None:
                return text
            try:
                return convert(text)
            except ValueProblem as exc:
                raise RowError(column, f"{where}: {exc.message}") from None

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
