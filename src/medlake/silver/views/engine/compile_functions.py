"""FHIRPath functions -> DuckDB SQL over `JSON[]` collections (the twin of `fhirpath_eval._FUNCTIONS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from medlake.silver.views.engine.compile_boundary import compile_boundary, temporal_type
from medlake.silver.views.engine.compile_fhirpath import EMPTY, FhirPathCompiler, Scope, quote
from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.fhirpath_parse import Call, Member, Node

_Fn = Callable[[FhirPathCompiler, str, Call, Scope], str]


def compile_call(c: FhirPathCompiler, node: Call, focus: str, scope: Scope) -> str:
    """The SQL `JSON[]` of the function call `node` on `focus`."""
    if node.name == "ofType":
        return _of_type(c, node, focus, scope)
    if node.name in ("lowBoundary", "highBoundary"):
        return compile_boundary(c, node, focus, scope)
    base = focus if node.target is None else c.compile(node.target, focus, scope)
    return _FUNCTIONS[node.name](c, base, node, scope)


def _type_name(node: Node) -> str:
    if isinstance(node, Member):
        return node.name
    raise ViewDefinitionError("expected a type name such as `string` or `Quantity`", element="path")


def _of_type(c: FhirPathCompiler, node: Call, focus: str, scope: Scope) -> str:
    type_name = _type_name(node.args[0])
    target = node.target
    if not isinstance(target, Member):
        base = focus if target is None else c.compile(target, focus, scope)
        v = c.var()
        return f"list_filter({base}, lambda {v}: {c.is_type(v, type_name)})"
    stem = focus if target.target is None else c.compile(target.target, focus, scope)
    choice_key = target.name + type_name[0].upper() + type_name[1:]
    (v, known), w = c.item_var(stem), c.var()
    body = (f"CASE WHEN json_type({v}) <> 'OBJECT' THEN {EMPTY} "
            f"WHEN {c.member(v, target.name)} IS NOT NULL "
            f"THEN list_filter({c.children(v, target.name)}, lambda {w}: {c.is_type(w, type_name)}) "
            f"ELSE {c.navigate(f'[{v}]', choice_key, at_root=False)} END")  # fmt: skip
    return body if known else c.each(stem, body, v)


def _where(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    v = c.var()
    inner = replace(scope, focus_type=temporal_type(node.target, scope.focus_type))
    return f"list_filter({base}, lambda {v}: ({c.truth(c.compile(node.args[0], f'[{v}]', inner))}) IS TRUE)"


def _exists(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    items = _where(c, base, node, scope) if node.args else base
    return f"[to_json(len({items}) > 0)]"


def _not(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    return c.boolean(f"NOT ({c.truth(base)})")


def _extension(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    url = c.single(c.compile(node.args[0], base, scope))
    v, e = c.var(), c.var()
    extensions = f"flatten(list_transform({base}, lambda {v}: CASE WHEN json_type({v}) = 'OBJECT' THEN {c.children(v, 'extension')} ELSE {EMPTY} END))"
    return f"list_filter({extensions}, lambda {e}: json_type({e}) = 'OBJECT' AND ({e}->>'url') = ({url}->>'$'))"


def _join(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    sep = (
        f"coalesce(({c.single(c.compile(node.args[0], base, scope))})->>'$', '')"
        if node.args
        else "''"
    )
    b, v, x, y = c.var(), c.var(), c.var(), c.var()
    texts = f"list_transform({b}, lambda {v}: coalesce({v}->>'$', ''))"
    joined = f"list_reduce({texts}, lambda {x}, {y}: {x} || {sep} || {y})"
    body = f"CASE WHEN len({b}) = 0 THEN {EMPTY} ELSE [to_json({joined})] END"
    return c.bind_list(base, body, b)


def _has_value(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    b = c.var()
    return c.bind_list(base, f"[to_json(len({b}) = 1 AND json_type({b}[1]) <> 'OBJECT')]", b)


def _resource_key(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    v = c.var()
    body = (f"CASE WHEN json_type({v}) = 'OBJECT' AND json_exists({v}, '$.resourceType') AND json_exists({v}, '$.id') "
            f"THEN [json_extract({v}, '$.id')] ELSE {EMPTY} END")  # fmt: skip
    return c.each(base, body, v)


def _reference_key(c: FhirPathCompiler, base: str, node: Call, scope: Scope) -> str:
    wanted = f" AND {{p}}[-2] = {quote(_type_name(node.args[0]))}" if node.args else ""
    v, r, s, p = c.var(), c.var(), c.var(), c.var()
    cut = f"CASE WHEN list_position({s}, '_history') IS NULL THEN {s} ELSE {s}[1:list_position({s}, '_history') - 1] END"
    keep = f"len({p}) >= 2" + wanted.format(p=p)
    parts = c.bind_list(
        f"string_split({r}, '/')",
        c.bind_list(cut, f"CASE WHEN {keep} THEN [to_json({p}[-1])] ELSE {EMPTY} END", p),
        s,
    )
    ref = (f"CASE WHEN json_type({v}) = 'OBJECT' AND json_type({v}, '$.reference') = 'VARCHAR' "
           f"THEN {v}->>'reference' ELSE NULL END")  # fmt: skip
    body = f"CASE WHEN {r} IS NULL OR starts_with({r}, '#') THEN {EMPTY} ELSE {parts} END"
    return c.each(base, c.bind_list(ref, body, r), v)


_FUNCTIONS: dict[str, _Fn] = {
    "where": _where,
    "exists": _exists,
    "empty": lambda c, base, node, scope: f"[to_json(len({base}) = 0)]",
    "first": lambda c, base, node, scope: f"({base})[1:1]",
    "last": lambda c, base, node, scope: f"({base})[-1:]",
    "tail": lambda c, base, node, scope: f"({base})[2:]",
    "count": lambda c, base, node, scope: f"[to_json(len({base}))]",
    "hasValue": _has_value,
    "not": _not,
    "extension": _extension,
    "join": _join,
    "getResourceKey": _resource_key,
    "getReferenceKey": _reference_key,
}
