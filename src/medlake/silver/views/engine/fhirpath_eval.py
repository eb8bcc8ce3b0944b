"""FHIRPath evaluator over plain JSON (dicts, lists, str, int, float, bool): AST -> collection.

Every expression yields a list (a FHIRPath collection). Choice elements (`value[x]`) are found
by their stem (`value` finds `valueQuantity`); `ofType(T)` on such a stem picks `value<T>` and
remembers the FHIR type of strings (for `lowBoundary()` of a date versus a dateTime).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.fhirpath_boundary import (
    date_boundary,
    datetime_boundary,
    decimal_boundary,
    time_boundary,
)
from medlake.silver.views.engine.fhirpath_parse import (
    Binary,
    Call,
    Const,
    Indexer,
    Literal,
    Member,
    Node,
    This,
    Unary,
)

_STRING_TYPES = {"string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary"}
_TEMPORAL = {"date", "dateTime", "instant", "time"}
_INTEGER_TYPES = {"integer", "positiveInt", "unsignedInt", "integer64"}


class TypedStr(str):
    """A string that knows its FHIR type (set by `ofType`)."""

    fhir_type: str = "string"


@dataclass(frozen=True)
class Context:
    """What an expression can see besides its focus: the resource, %constants, %rowIndex."""

    resource: dict[str, Any]
    constants: dict[str, Any] = field(default_factory=dict)
    row_index: int = 0


def evaluate(node: Node, focus: list[Any], ctx: Context) -> list[Any]:
    """The collection `node` yields on `focus`."""
    if isinstance(node, Literal):
        return [] if node.value is None else [node.value]
    if isinstance(node, This):
        return focus
    if isinstance(node, Const):
        return _constant(node, ctx)
    if isinstance(node, Member):
        base = focus if node.target is None else evaluate(node.target, focus, ctx)
        return _navigate(base, node.name, at_root=node.target is None)
    if isinstance(node, Indexer):
        base = evaluate(node.target, focus, ctx)
        index = _singleton(evaluate(node.index, focus, ctx))
        return [base[index]] if isinstance(index, int) and 0 <= index < len(base) else []
    if isinstance(node, Binary):
        return _binary(node, focus, ctx)
    if isinstance(node, Unary):
        return _negate(node, evaluate(node.operand, focus, ctx))
    return _call(node, focus, ctx)


def _negate(node: Unary, values: list[Any]) -> list[Any]:
    value = _singleton(values)
    if value is None:
        return []
    if not _numeric(value):
        raise ViewDefinitionError(f"unary `{node.op}` needs a number, got {type(value).__name__}", element="path")
    return [-value if node.op == "-" else value]


def _constant(node: Const, ctx: Context) -> list[Any]:
    if node.name == "rowIndex":
        return [ctx.row_index]
    if node.name in ("resource", "rootResource"):
        return [ctx.resource]
    if node.name not in ctx.constants:
        known = ", ".join(f"%{k}" for k in sorted(ctx.constants)) or "none"
        raise ViewDefinitionError(f"undefined constant `%{node.name}` (defined: {known})", element="constant")
    value = ctx.constants[node.name]
    return value if isinstance(value, list) else [value]


def _navigate(base: list[Any], name: str, at_root: bool) -> list[Any]:
    out: list[Any] = []
    for item in base:
        if not isinstance(item, dict):
            continue
        if name in item:
            _extend(out, item[name])
        elif at_root and item.get("resourceType") == name:
            out.append(item)
        else:
            for key, value in item.items():
                if key.startswith(name) and len(key) > len(name) and key[len(name)].isupper():
                    _extend(out, value)
    return out


def _extend(out: list[Any], value: Any) -> None:
    if isinstance(value, list):
        out.extend(v for v in value if v is not None)
    elif value is not None:
        out.append(value)


def _singleton(values: list[Any]) -> Any:
    if len(values) > 1:
        raise ViewDefinitionError(f"expected one value, got a collection of {len(values)}", element="path")
    return values[0] if values else None


def _truth(values: list[Any]) -> bool | None:
    if not values:
        return None
    value = _singleton(values)
    return value if isinstance(value, bool) else True


def _binary(node: Binary, focus: list[Any], ctx: Context) -> list[Any]:
    left = evaluate(node.left, focus, ctx)
    right = evaluate(node.right, focus, ctx)
    op = node.op
    if op in ("and", "or", "xor", "implies"):
        result = _logic(op, _truth(left), _truth(right))
        return [] if result is None else [result]
    if op == "|":
        return left + [v for v in right if not any(_equal(v, w) for w in left)]
    if op in ("=", "!=", "~", "!~"):
        if not left or not right:
            return []
        same = len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
        return [same if op in ("=", "~") else not same]
    if op == "&":
        return ["".join(str(v) for v in (left[:1] + right[:1]))]
    a, b = _singleton(left), _singleton(right)
    if a is None or b is None:
        return []
    return _arith(op, a, b) if op in _ARITH else _compare(op, a, b)


def _logic(op: str, a: bool | None, b: bool | None) -> bool | None:
    if op == "and":
        return False if a is False or b is False else (None if a is None or b is None else True)
    if op == "or":
        return True if a is True or b is True else (None if a is None or b is None else False)
    if op == "implies":
        return True if a is False or b is True else (None if a is None or b is None else False)
    return None if a is None or b is None else a != b


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _divide(a: Any, b: Any) -> Any:
    return None if b == 0 else a / b


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": _divide,
    "div": lambda a, b: None if b == 0 else a // b, "mod": lambda a, b: None if b == 0 else a % b,
}  # fmt: skip
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _arith(op: str, a: Any, b: Any) -> list[Any]:
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return [a + b]
    if not (_numeric(a) and _numeric(b)):
        raise ViewDefinitionError(f"`{op}` needs two numbers, got {type(a).__name__} and {type(b).__name__}", element="path")
    result = _ARITH[op](a, b)
    return [] if result is None else [result]


def _compare(op: str, a: Any, b: Any) -> list[Any]:
    if (_numeric(a) and _numeric(b)) or (isinstance(a, str) and isinstance(b, str)):
        return [_COMPARE[op](a, b)]
    raise ViewDefinitionError(f"`{op}` cannot compare {type(a).__name__} with {type(b).__name__}", element="path")


def _call(node: Call, focus: list[Any], ctx: Context) -> list[Any]:
    if node.name == "ofType":
        return _of_type(node, focus, ctx)
    base = focus if node.target is None else evaluate(node.target, focus, ctx)
    return _FUNCTIONS[node.name](base, node.args, ctx)


def _type_name(node: Node) -> str:
    if isinstance(node, Member):
        return node.name
    raise ViewDefinitionError("expected a type name such as `string` or `Quantity`", element="path")


def _of_type(node: Call, focus: list[Any], ctx: Context) -> list[Any]:
    type_name = _type_name(node.args[0])
    target = node.target
    if not isinstance(target, Member):
        base = focus if target is None else evaluate(target, focus, ctx)
        return [_typed(v, type_name) for v in base if _is_type(v, type_name)]
    stem = focus if target.target is None else evaluate(target.target, focus, ctx)
    choice_key = target.name + type_name[0].upper() + type_name[1:]
    out: list[Any] = []
    for item in stem:
        if not isinstance(item, dict):
            continue
        if target.name in item:  # not a choice element: filter its values by type
            out.extend(_typed(v, type_name) for v in _navigate([item], target.name, False) if _is_type(v, type_name))
        else:
            out.extend(_typed(v, type_name) for v in _navigate([item], choice_key, False))
    return out


def _typed(value: Any, type_name: str) -> Any:
    if isinstance(value, str) and type_name in _TEMPORAL:
        typed = TypedStr(value)
        typed.fhir_type = type_name
        return typed
    return value


def _is_type(value: Any, type_name: str) -> bool:
    if type_name in _STRING_TYPES or type_name in _TEMPORAL:
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name in _INTEGER_TYPES:
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "decimal":
        return _numeric(value)
    return isinstance(value, dict) and value.get("resourceType") == type_name


def _where(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    return [item for item in base if _truth(evaluate(args[0], [item], ctx)) is True]


def _exists(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    return [bool(_where(base, args, ctx) if args else base)]


def _not(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    value = _truth(base)
    return [] if value is None else [not value]


def _extension(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    url = _singleton(evaluate(args[0], base, ctx))
    out: list[Any] = []
    for item in base:
        if isinstance(item, dict):
            out.extend(e for e in item.get("extension", []) if isinstance(e, dict) and e.get("url") == url)
    return out


def _join(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    sep = _singleton(evaluate(args[0], base, ctx)) if args else ""
    return [str(sep or "").join(str(v) for v in base)] if base else []


def _boundary(high: bool) -> Callable[[list[Any], tuple[Node, ...], Context], list[Any]]:
    def run(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
        value = _singleton(base)
        if value is None or isinstance(value, bool):
            return []
        if _numeric(value):
            return [decimal_boundary(value, high)]
        if not isinstance(value, str):
            return []
        kind = getattr(value, "fhir_type", None) or _guess_temporal(value)
        fill = {"time": time_boundary, "date": date_boundary}.get(kind, datetime_boundary)
        result = fill(value, high)
        return [] if result is None else [result]

    return run


def _guess_temporal(value: str) -> str:
    if len(value) > 2 and value[2] == ":":
        return "time"
    return "dateTime" if "T" in value else "date"


def _resource_key(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    return [item["id"] for item in base if isinstance(item, dict) and "resourceType" in item and "id" in item]


def _reference_key(base: list[Any], args: tuple[Node, ...], ctx: Context) -> list[Any]:
    wanted = _type_name(args[0]) if args else None
    out: list[Any] = []
    for item in base:
        ref = item.get("reference") if isinstance(item, dict) else None
        if not isinstance(ref, str) or ref.startswith("#"):
            continue
        parts = ref.split("/")
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) < 2 or (wanted is not None and parts[-2] != wanted):
            continue
        out.append(parts[-1])
    return out


_FUNCTIONS: dict[str, Callable[[list[Any], tuple[Node, ...], Context], list[Any]]] = {
    "where": _where,
    "exists": _exists,
    "empty": lambda base, args, ctx: [not base],
    "first": lambda base, args, ctx: base[:1],
    "last": lambda base, args, ctx: base[-1:],
    "tail": lambda base, args, ctx: base[1:],
    "count": lambda base, args, ctx: [len(base)],
    "hasValue": lambda base, args, ctx: [len(base) == 1 and not isinstance(base[0], dict)],
    "not": _not,
    "extension": _extension,
    "join": _join,
    "lowBoundary": _boundary(high=False),
    "highBoundary": _boundary(high=True),
    "getResourceKey": _resource_key,
    "getReferenceKey": _reference_key,
}
