"""FHIRPath AST -> a DuckDB SQL expression, the compiled twin of `fhirpath_eval.evaluate`.

Every FHIRPath collection is a DuckDB `JSON[]` (a list of JSON values), so each node maps
to one list expression: navigation is `flatten(list_transform(...))`, `where()` is
`list_filter`, `first()` a slice. Booleans and numbers are read out of JSON only where an
operator needs them. Where the Python evaluator raises (a collection where one value is
needed), the SQL calls `error('medlake: …')`, which `run_view_sql` turns back into a
`ViewDefinitionError`.

`lowBoundary()` / `highBoundary()` compile in `compile_boundary`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import count
from typing import Any

from medlake.silver.views.engine.errors import ViewCompileError
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

EMPTY = "[]::JSON[]"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SINGLE = re.compile(r"^\[([A-Za-z_][A-Za-z0-9_]*)\]$")
ERROR_PREFIX = "medlake: "
_NUMERIC = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_INTEGER = "('BIGINT', 'UBIGINT')"
_STRING_TYPES = {"string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary",
                 "date", "dateTime", "instant", "time"}  # fmt: skip
_INTEGER_TYPES = {"integer", "positiveInt", "unsignedInt", "integer64"}


def quote(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_error(message: str) -> str:
    return f"error({quote(ERROR_PREFIX + message)})"


def json_literal(value: Any) -> str:
    """A Python JSON value as a SQL `JSON` literal."""
    return f"CAST({quote(json.dumps(value, ensure_ascii=False))} AS JSON)"


@dataclass(frozen=True)
class Scope:
    """What an expression sees besides its focus: the resource, %rowIndex and %constants (all SQL)."""

    resource: str
    row_index: str
    constants: dict[str, Any]
    focus_type: str | None = None
    """The temporal type `ofType()` gave the focus's strings (for lowBoundary/highBoundary), if any."""


class FhirPathCompiler:
    """Compiles FHIRPath nodes; one instance per view so lambda variable names never clash."""

    def __init__(self, resource: str = "_json", source: str = "resource") -> None:
        self._ids = count(1)
        self.resource = resource
        """The resource as a JSON value (what the list SQL navigates)."""
        self.source = source
        """The resource's text column as read (VARCHAR or JSON): what the per-row extraction parses."""
        self.slow_reads_top = True
        """Whether the list SQL reads the resource's keys from `_top` (False: it extracts them itself,
        because it only runs for the rows the fast path leaves, see `compile_speculate`)."""
        self.paths: dict[str, int] = {}
        """JSON paths into the resource read by the compiled SQL: extracted once per row as `_top[i]`."""
        self.type_paths: dict[str, int] = {}
        """JSON paths whose json_type the compiled SQL reads: computed once per row as `_types[i]`."""
        self.exists_paths: dict[str, int] = {}
        """JSON paths whose existence the compiled SQL reads: computed once per row as `_has[i]`."""

    def member(self, item: str, key: str) -> str:
        """SQL: the JSON under `key` of `item` (NULL when missing); the resource's keys come from `_top`."""
        if item != self.resource or not self.slow_reads_top:
            return f"json_extract({item}, {quote('$.' + json.dumps(key))})"
        return self.extract("$." + json.dumps(key))

    def extract(self, path: str) -> str:
        """SQL: the JSON at `path` in the resource (NULL when missing), read from the per-row `_top`."""
        index = self.paths.setdefault(path, len(self.paths) + 1)
        return f"_top[{index}]"

    def type_at(self, path: str) -> str:
        """SQL: the json_type at `path` in the resource (NULL when missing), read from the per-row `_types`."""
        index = self.type_paths.setdefault(path, len(self.type_paths) + 1)
        return f"_types[{index}]"

    def exists_at(self, path: str) -> str:
        """SQL: whether `path` exists in the resource (a JSON null counts), read from the per-row `_has`."""
        index = self.exists_paths.setdefault(path, len(self.exists_paths) + 1)
        return f"_has[{index}]"

    def top_extract(self) -> str:
        """The select-list items that parse the resource once per list of paths (`_top`, `_types`)."""
        paths = ", ".join(quote(p) for p in self.paths) or quote("$.id")
        items = f"json_extract({self.source}, [{paths}]) AS _top"
        if self.type_paths:
            items += f", json_type({self.source}, [{', '.join(quote(p) for p in self.type_paths)}]) AS _types"
        if self.exists_paths:
            items += f", json_exists({self.source}, [{', '.join(quote(p) for p in self.exists_paths)}]) AS _has"
        return items

    def var(self) -> str:
        return f"_v{next(self._ids)}"

    def bind_list(self, expr: str, body: str, name: str) -> str:
        """`body` (a list expression using `name`) with `name` bound to `expr`, evaluated once."""
        if _IDENT.match(expr):
            return re.sub(rf"\b{name}\b", expr, body)
        return f"flatten(list_transform([{expr}], lambda {name}: {body}))"

    def bind_value(self, expr: str, body: str, name: str) -> str:
        """`body` (a scalar expression using `name`) with `name` bound to `expr`."""
        if _IDENT.match(expr):
            return re.sub(rf"\b{name}\b", expr, body)
        return f"list_transform([{expr}], lambda {name}: {body})[1]"

    def each(self, collection: str, body: str, name: str) -> str:
        """`flatten` of the list `body` for every item `name` of `collection` (no lambda for `[x]`)."""
        single = _SINGLE.match(collection)
        if single:
            return re.sub(rf"\b{name}\b", single.group(1), body)
        return f"flatten(list_transform({collection}, lambda {name}: {body}))"

    # -- collections -------------------------------------------------------------------------

    def compile(self, node: Node, focus: str, scope: Scope) -> str:
        """The SQL `JSON[]` expression `node` yields on `focus` (a `JSON[]` expression)."""
        if isinstance(node, Literal):
            return EMPTY if node.value is None else f"[{json_literal(node.value)}]"
        if isinstance(node, This):
            return focus
        if isinstance(node, Const):
            return self._constant(node, scope)
        if isinstance(node, Member):
            base = focus if node.target is None else self.compile(node.target, focus, scope)
            return self.navigate(base, node.name, at_root=node.target is None)
        if isinstance(node, Indexer):
            return self._index(node, focus, scope)
        if isinstance(node, Binary):
            return self._binary(node, focus, scope)
        if isinstance(node, Unary):
            return self._negate(node, focus, scope)
        return self._call(node, focus, scope)

    def _constant(self, node: Const, scope: Scope) -> str:
        if node.name == "rowIndex":
            return f"[to_json({scope.row_index})]"
        if node.name in ("resource", "rootResource"):
            return f"[{scope.resource}]"
        value = scope.constants[node.name]  # parse_view has checked the name
        values = value if isinstance(value, list) else [value]
        return "[" + ", ".join(json_literal(v) for v in values) + "]::JSON[]"

    def as_list(self, value: str) -> str:
        """A JSON `value` as a collection: arrays flattened, nulls and missing values dropped."""
        j = self.var()
        body = (f"CASE WHEN {j} IS NULL OR json_type({j}) = 'NULL' THEN {EMPTY} "
                f"WHEN json_type({j}) = 'ARRAY' THEN list_filter(CAST({j} AS JSON[]), lambda e: CAST(e AS VARCHAR) <> 'null') "
                f"ELSE [{j}] END")  # fmt: skip
        return self.bind_list(value, body, j)

    def children(self, item: str, key: str) -> str:
        """The values under `key` of the JSON object `item`, as a `JSON[]`."""
        return self.as_list(self.member(item, key))

    def item_var(self, collection: str) -> tuple[str, bool]:
        """A name for the items of `collection`: the item itself when it is `[x]`, else a new lambda variable."""
        single = _SINGLE.match(collection)
        return (single.group(1), True) if single else (self.var(), False)

    def navigate(self, base: str, name: str, at_root: bool) -> str:
        """Member navigation: `name` of every object in `base`, a missing key found by its choice stem."""
        (v, known), k, j = self.item_var(base), self.var(), self.var()
        root = f"WHEN {v}->>'resourceType' = {quote(name)} THEN [{v}] " if at_root else ""
        by_key = self.as_list(f"json_extract({v}, '$.\"' || {k} || '\"')")
        choice = (f"flatten(list_transform(list_filter(json_keys({v}), lambda {k}: starts_with({k}, {quote(name)}) "
                  f"AND length({k}) > {len(name)} AND substr({k}, {len(name) + 1}, 1) BETWEEN 'A' AND 'Z'), "
                  f"lambda {k}: {by_key}))")  # fmt: skip
        body = self.bind_list(
            self.member(v, name),
            f"CASE WHEN {j} IS NOT NULL THEN {self.as_list(j)} {root}ELSE {choice} END",
            j,
        )
        return body if known else f"flatten(list_transform({base}, lambda {v}: {body}))"

    def _index(self, node: Indexer, focus: str, scope: Scope) -> str:
        base, i = self.var(), self.var()
        index = self.single(self.compile(node.index, focus, scope))
        body = (f"CASE WHEN json_type({i}) IN {_INTEGER} AND CAST({i} AS BIGINT) >= 0 "
                f"THEN {base}[CAST({i} AS BIGINT) + 1:CAST({i} AS BIGINT) + 1] ELSE {EMPTY} END")  # fmt: skip
        return self.bind_list(
            self.compile(node.target, focus, scope), self.bind_list(index, body, i), base
        )

    # -- scalars -----------------------------------------------------------------------------

    def single(self, collection: str) -> str:
        """The one JSON value of `collection`, NULL when empty; an error when it holds more."""
        c = self.var()
        return self.bind_value(collection, f"CASE WHEN len({c}) > 1 THEN {sql_error('expected one value, got a collection')} "
                                           f"ELSE {c}[1] END", c)  # fmt: skip

    def truth(self, collection: str) -> str:
        """FHIRPath singleton evaluation of booleans: NULL when empty, true for a non-boolean value."""
        c = self.var()
        body = (f"CASE WHEN len({c}) = 0 THEN NULL::BOOLEAN "
                f"WHEN len({c}) > 1 THEN {sql_error('expected one value, got a collection')} "
                f"WHEN json_type({c}[1]) = 'BOOLEAN' THEN CAST({c}[1] AS BOOLEAN) ELSE true END")  # fmt: skip
        return self.bind_value(collection, body, c)

    @staticmethod
    def boolean(expr: str) -> str:
        """A SQL boolean as a collection: empty for NULL."""
        return f"list_filter([to_json({expr})], lambda e: e IS NOT NULL)"

    # -- operators ---------------------------------------------------------------------------

    def _binary(self, node: Binary, focus: str, scope: Scope) -> str:
        left, right, op = (
            self.compile(node.left, focus, scope),
            self.compile(node.right, focus, scope),
            node.op,
        )
        if op in ("and", "or", "xor", "implies"):
            a, b = self.truth(left), self.truth(right)
            logic = {"and": f"({a}) AND ({b})", "or": f"({a}) OR ({b})", "xor": f"({a}) <> ({b})",
                     "implies": f"(NOT ({a})) OR ({b})"}[op]  # fmt: skip
            return self.boolean(logic)
        if op == "|":
            lv, rv = self.var(), self.var()
            return self.bind_list(left, f"list_concat({lv}, list_filter({right}, lambda {rv}: NOT coalesce(list_bool_or("
                                        f"list_transform({lv}, lambda w: {self.equal(rv, 'w')})), false)))", lv)  # fmt: skip
        if op in ("=", "!=", "~", "!~"):
            return self._equality(op, left, right)
        if op == "&":
            return f"[to_json(coalesce({left}[1]->>'$', '') || coalesce({right}[1]->>'$', ''))]"
        return self._arith_or_compare(op, self.single(left), self.single(right))

    @staticmethod
    def equal(a: str, b: str) -> str:
        """FHIRPath `=` of two JSON values (numbers by value, the rest by their JSON text)."""
        return (f"CASE WHEN json_type({a}) IN {_NUMERIC} AND json_type({b}) IN {_NUMERIC} "
                f"THEN CAST({a} AS DOUBLE) = CAST({b} AS DOUBLE) ELSE CAST({a} AS VARCHAR) = CAST({b} AS VARCHAR) END")  # fmt: skip

    def _equality(self, op: str, left: str, right: str) -> str:
        lv, rv, i = self.var(), self.var(), self.var()
        same = (f"len({lv}) = len({rv}) AND list_bool_and(list_transform(range(len({lv})), "
                f"lambda {i}: {self.equal(f'{lv}[{i} + 1]', f'{rv}[{i} + 1]')}))")  # fmt: skip
        result = same if op in ("=", "~") else f"NOT ({same})"
        body = f"CASE WHEN len({lv}) = 0 OR len({rv}) = 0 THEN {EMPTY} ELSE [to_json({result})] END"
        return self.bind_list(left, self.bind_list(right, body, rv), lv)

    def _arith_or_compare(self, op: str, left: str, right: str) -> str:
        a, b = self.var(), self.var()
        num = f"json_type({a}) IN {_NUMERIC} AND json_type({b}) IN {_NUMERIC}"
        ints = f"json_type({a}) IN {_INTEGER} AND json_type({b}) IN {_INTEGER}"
        strs = f"json_type({a}) = 'VARCHAR' AND json_type({b}) = 'VARCHAR'"
        x, y = f"CAST({a} AS DOUBLE)", f"CAST({b} AS DOUBLE)"
        if op in ("<", ">", "<=", ">="):
            value = (f"CASE WHEN {num} THEN to_json({x} {op} {y}) WHEN {strs} THEN to_json(({a}->>'$') {op} ({b}->>'$')) "
                     f"ELSE {sql_error(f'`{op}` cannot compare these values')} END")  # fmt: skip
        else:
            value = self._arith(op, a, b, num, ints, strs)
        body = f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN {EMPTY} ELSE list_filter([{value}], lambda e: e IS NOT NULL) END"
        return self.bind_list(left, self.bind_list(right, body, b), a)

    def _arith(self, op: str, a: str, b: str, num: str, ints: str, strs: str) -> str:
        x, y = f"CAST({a} AS DOUBLE)", f"CAST({b} AS DOUBLE)"
        i, j = f"CAST({a} AS BIGINT)", f"CAST({b} AS BIGINT)"
        concat = f"WHEN {strs} THEN to_json(({a}->>'$') || ({b}->>'$')) " if op == "+" else ""
        if op in ("+", "-", "*"):
            numeric = f"CASE WHEN {ints} THEN to_json({i} {op} {j}) ELSE to_json({x} {op} {y}) END"
        elif op == "/":
            numeric = f"CASE WHEN {y} = 0 THEN NULL ELSE to_json({x} / {y}) END"
        elif op == "div":
            numeric = (f"CASE WHEN {y} = 0 THEN NULL WHEN {ints} THEN to_json(CAST(floor({x} / {y}) AS BIGINT)) "
                       f"ELSE to_json(floor({x} / {y})) END")  # fmt: skip
        else:  # mod, with the sign of the divisor as in Python
            numeric = (f"CASE WHEN {y} = 0 THEN NULL WHEN {ints} THEN to_json({i} - {j} * CAST(floor({x} / {y}) AS BIGINT)) "
                       f"ELSE to_json({x} - {y} * floor({x} / {y})) END")  # fmt: skip
        return f"CASE {concat}WHEN {num} THEN {numeric} ELSE {sql_error(f'`{op}` needs two numbers')} END"

    def _negate(self, node: Unary, focus: str, scope: Scope) -> str:
        v = self.var()
        value = self.single(self.compile(node.operand, focus, scope))
        negated = f"CASE WHEN json_type({v}) IN {_INTEGER} THEN to_json(-CAST({v} AS BIGINT)) ELSE to_json(-CAST({v} AS DOUBLE)) END"
        result = negated if node.op == "-" else v
        body = (f"CASE WHEN {v} IS NULL THEN {EMPTY} WHEN json_type({v}) NOT IN {_NUMERIC} "
                f"THEN {sql_error(f'unary `{node.op}` needs a number')} ELSE [{result}] END")  # fmt: skip
        return self.bind_list(value, body, v)

    # -- functions ---------------------------------------------------------------------------

    def _call(self, node: Call, focus: str, scope: Scope) -> str:
        from medlake.silver.views.engine.compile_functions import compile_call

        return compile_call(self, node, focus, scope)

    def is_type(self, value: str, type_name: str) -> str:
        """SQL: is the JSON `value` of FHIR type `type_name` (as the Python evaluator decides)?"""
        if type_name in _STRING_TYPES:
            return f"json_type({value}) = 'VARCHAR'"
        if type_name == "boolean":
            return f"json_type({value}) = 'BOOLEAN'"
        if type_name in _INTEGER_TYPES:
            return f"json_type({value}) IN {_INTEGER}"
        if type_name == "decimal":
            return f"json_type({value}) IN {_NUMERIC}"
        return f"(json_type({value}) = 'OBJECT' AND {value}->>'resourceType' = {quote(type_name)})"


def not_compiled(construct: str) -> ViewCompileError:
    return ViewCompileError(
        f"{construct} cannot be compiled to SQL; run this view with the Python evaluator (`run_view`, or `--engine python`)",
        element="path",
        construct=construct,
    )
