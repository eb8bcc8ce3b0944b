"""A ViewDefinition -> one DuckDB SQL query over a relation of resources (a JSON column `resource`).

    sql = compile_view(view, source="silver.observation")
    rows = run_view_sql(view, resources)          # same rows as run_view(view, resources)

A select whose tree has no forEach, forEachOrNull, repeat or unionAll ("flat") becomes plain
columns: one row per resource. Any other select becomes a list of rows per resource (each row a
`JSON[]` of its column values) that the query UNNESTs: forEach maps over the collection
(`list_transform` with the item's index as %rowIndex), forEachOrNull adds a row of nulls when
it is empty, nested selects are cross products, unionAll concatenates its branches, and repeat
is unrolled to `REPEAT_MAX_DEPTH` levels (deeper trees raise an error instead of losing rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from itertools import count
from typing import Any

from medlake.silver.views.engine.compile_boundary import temporal_type
from medlake.silver.views.engine.compile_fhirpath import (
    EMPTY,
    ERROR_PREFIX,
    FhirPathCompiler,
    Scope,
    quote,
    sql_error,
)
from medlake.silver.views.engine.compile_speculate import Speculator
from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.evaluate import Row
from medlake.silver.views.engine.fhirpath_parse import Node
from medlake.silver.views.engine.viewdef import Column, Select, ViewDefinition, parse_view

REPEAT_COPIES = 64
"""Largest number of copies of a repeat step the unrolled walk may hold; sets its depth."""
REPEAT_MAX_DEPTH = 3
"""DuckDB binds nested lambdas at a cost that grows fast with depth: 3 levels keep it in seconds."""

_STRING_TYPES = {"string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary",
                 "date", "dateTime", "instant", "time", "Reference"}  # fmt: skip
_SQL_TYPES = {"integer": "BIGINT", "positiveInt": "BIGINT", "unsignedInt": "BIGINT", "integer64": "BIGINT",
              "decimal": "DOUBLE", "boolean": "BOOLEAN"}  # fmt: skip
_calls = count(1)


def compile_view(
    view: dict[str, Any] | ViewDefinition, source: str = "resources", typed: bool = True
) -> str:
    """DuckDB SQL for `view` reading `source` (a table or view with a JSON/VARCHAR column `resource`).

    Typed columns are cast (`string`, dates, codes -> VARCHAR; integers -> BIGINT; `decimal` ->
    DOUBLE; `boolean` -> BOOLEAN, values of another JSON type -> NULL); untyped ones stay JSON.
    With `typed=False` every column is JSON. Raises `ViewCompileError` for what cannot compile.
    """
    vd = view if isinstance(view, ViewDefinition) else parse_view(view)
    return _ViewCompiler(vd, typed).query(source)


class _ViewCompiler:
    def __init__(self, vd: ViewDefinition, typed: bool) -> None:
        self.vd = vd
        self.typed = typed
        self.fp = FhirPathCompiler()
        self.root = Scope(self.fp.resource, "0", vd.constants)
        self.fast = Speculator(self.fp, vd.resource, dict(vd.constants))
        self.lazy = False
        """Flat views cast the resource to JSON only inside the exact (slow) path of a cell."""

    def query(self, source: str) -> str:
        columns = _columns(self.vd.select)
        kind = self.fp.extract('$."resourceType"')
        filters = [f"CAST({kind} AS VARCHAR) = {quote(json.dumps(self.vd.resource, ensure_ascii=False))}"]
        self.lazy = _flat(self.vd.select)
        self.fp.slow_reads_top = not self.lazy
        filters += [self._where(path, expr) for path, expr in self.vd.where]
        focus = f"[{self.fp.resource}]"
        if self.lazy:
            cells = ", ".join(f"{self._flat_cell(c)} AS _c{i}" for i, c in enumerate(columns))
            named = ", ".join(self._out(f"_c{i}", c) for i, c in enumerate(columns))
            return f"SELECT {named} FROM (SELECT {cells} FROM {self._input(source, filters)}) AS cells"
        rows = self._rows(self.vd.select, focus, self.root)
        outs = [self._out(f"_row[{i}]", c) for i, c in enumerate(columns, start=1)]
        return f"SELECT {', '.join(outs)} FROM (SELECT unnest({rows}) AS _row FROM {self._input(source, filters)}) AS rows"

    def _input(self, source: str, filters: list[str]) -> str:
        """The resources of the view's type, each parsed once per list of paths into `_top` / `_types`."""
        json_column = "" if self.lazy else f", CAST({self.fp.source} AS JSON) AS {self.fp.resource}"
        parsed = f"SELECT {self.fp.source}{json_column}, {self.fp.top_extract()} FROM {source}"
        return f"(SELECT * FROM ({parsed}) AS src WHERE {' AND '.join(filters)}) AS parsed"

    def _exact(self, sql: str) -> str:
        """`sql` of the list (slow) path, with the resource cast to JSON here when the input does not carry it."""
        if not self.lazy:
            return sql
        return f"list_transform([CAST({self.fp.source} AS JSON)], lambda {self.fp.resource}: {sql})[1]"

    def _where(self, path: str, expr: Node) -> str:
        c = self.fp.var()
        body = (f"CASE WHEN len({c}) = 0 THEN false WHEN len({c}) = 1 AND json_type({c}[1]) = 'BOOLEAN' "
                f"THEN CAST({c}[1] AS BOOLEAN) ELSE {sql_error(f'where path `{path}` must yield a boolean')} END")  # fmt: skip
        slow = self._exact(self.fp.bind_value(self.fp.compile(expr, f"[{self.fp.resource}]", self.root), body, c))
        fast = self.fast.cell(expr)
        if fast is None:
            return slow
        v = f"CAST({fast.sql} AS VARCHAR)"
        guard = f"({fast.one} AND ({v} IS NULL OR {v} IN ('true', 'false')))"
        return f"CASE WHEN {guard} THEN coalesce({v} = 'true', false) ELSE {slow} END"

    def _flat_cell(self, column: Column) -> str:
        """A column of a flat select: the fast path under its guard, else the exact list SQL."""
        slow = self._exact(self._cell(column, f"[{self.fp.resource}]", self.root))
        fast = None if column.collection else self.fast.cell(column.expr)
        if fast is None:
            return slow
        if fast.one == "true":
            return fast.sql
        return f"CASE WHEN {fast.one} THEN {fast.sql} ELSE {slow} END"

    def _cell(self, column: Column, focus: str, scope: Scope) -> str:
        values = self.fp.compile(column.expr, focus, scope)
        if column.collection:
            return f"to_json({values})"
        c = self.fp.var()
        too_many = sql_error(f"column `{column.name}` path `{column.path}` yielded more than one value; "
                             "set `collection: true` or narrow the path (e.g. with first())")  # fmt: skip
        return self.fp.bind_value(
            values, f"CASE WHEN len({c}) > 1 THEN {too_many} ELSE {c}[1] END", c
        )

    def _out(self, cell: str, column: Column) -> str:
        name = '"' + column.name + '"'
        if not self.typed or column.type is None:
            return f"{cell} AS {name}"
        if column.collection:
            e = self.fp.var()
            return f"list_transform(CAST({cell} AS JSON[]), lambda {e}: {_cast(e, column.type)}) AS {name}"
        return f"{_cast(cell, column.type)} AS {name}"

    # -- rows of a select (JSON[][]) -----------------------------------------------------------

    def _rows(self, select: Select, focus: str, scope: Scope) -> str:
        if select.for_each is not None:
            items, item, i = self.fp.var(), self.fp.var(), self.fp.var()
            typed = replace(scope, focus_type=temporal_type(select.for_each, scope.focus_type))
            each = f"flatten(list_transform({items}, lambda {item}, {i}: {self._body(select, f'[{item}]', _at(typed, f'{i} - 1'))}))"
            if select.or_null:
                each = f"CASE WHEN len({items}) = 0 THEN {self._body(select, EMPTY, _at(scope, '0'))} ELSE {each} END"
            return self.fp.bind_list(self.fp.compile(select.for_each, focus, scope), each, items)
        if select.repeat:
            item, i = self.fp.var(), self.fp.var()
            walked = self._walk(select.repeat, focus, scope, _repeat_depth(len(select.repeat)))
            nodes = replace(scope, focus_type=None)
            return f"flatten(list_transform({walked}, lambda {item}, {i}: {self._body(select, f'[{item}]', _at(nodes, f'{i} - 1'))}))"
        return self._body(select, focus, scope)

    def _body(self, select: Select, focus: str, scope: Scope) -> str:
        own = "[" + ", ".join(self._cell(c, focus, scope) for c in select.columns) + "]::JSON[]"
        rows = f"[{own}]"
        for nested in select.selects:
            rows = self._cross(rows, self._rows(nested, focus, scope))
        if select.union_all:
            branches = [self._rows(b, focus, scope) for b in select.union_all]
            union = branches[0] if len(branches) == 1 else "flatten([" + ", ".join(branches) + "])"
            rows = self._cross(rows, union)
        return rows

    def _cross(self, left: str, right: str) -> str:
        a, b = self.fp.var(), self.fp.var()
        return f"flatten(list_transform({left}, lambda {a}: list_transform({right}, lambda {b}: list_concat({a}, {b}))))"

    def _walk(self, paths: tuple[Node, ...], focus: str, scope: Scope, depth: int) -> str:
        """Every node reachable from `focus` through `paths`, depth-first, parents first (to `depth` levels)."""
        steps = [self.fp.compile(p, focus, scope) for p in paths]
        if depth == 0:
            deeper = sql_error(
                f"repeat goes deeper than {_repeat_depth(len(paths))} levels; use the Python evaluator"
            )
            return (
                f"CASE WHEN len(flatten([{', '.join(steps)}])) > 0 THEN {deeper} ELSE {EMPTY} END"
            )
        parts = []
        for step in steps:
            child = self.fp.var()
            below = self._walk(paths, f"[{child}]", scope, depth - 1)
            parts.append(
                f"flatten(list_transform({step}, lambda {child}: list_concat([{child}], {below})))"
            )
        return parts[0] if len(parts) == 1 else "flatten([" + ", ".join(parts) + "])"


def _at(scope: Scope, row_index: str) -> Scope:
    return replace(scope, row_index=row_index)


def _repeat_depth(paths: int) -> int:
    depth = 1
    while paths ** (depth + 1) <= REPEAT_COPIES and depth < REPEAT_MAX_DEPTH:
        depth += 1
    return depth


def _flat(select: Select) -> bool:
    if select.for_each is not None or select.repeat or select.union_all:
        return False
    return all(_flat(s) for s in select.selects)


def _columns(select: Select) -> list[Column]:
    out = list(select.columns)
    for s in select.selects:
        out.extend(_columns(s))
    if select.union_all:
        out.extend(_columns(select.union_all[0]))
    return out


def _cast(value: str, fhir_type: str) -> str:
    """A JSON cell as the SQL type of `fhir_type` (what `TRY_CAST(json AS type)` gives; strings only from
    JSON strings), reading the JSON text where it can instead of parsing it again.

    JSON text from DuckDB is minified, so its first character tells its kind; strings without
    a backslash are unquoted by slicing.
    """
    text = f"CAST({value} AS VARCHAR)"
    if fhir_type == "boolean":
        return f"CASE {text} WHEN 'true' THEN true WHEN 'false' THEN false ELSE TRY_CAST({value} AS BOOLEAN) END"
    if fhir_type in _SQL_TYPES:
        sql_type = _SQL_TYPES[fhir_type]
        return (f"CASE WHEN contains('-0123456789', left({text}, 1)) THEN TRY_CAST({text} AS {sql_type}) "
                f"ELSE TRY_CAST({value} AS {sql_type}) END")  # fmt: skip
    if fhir_type in _STRING_TYPES:
        return (f"CASE WHEN NOT starts_with({text}, '\"') THEN NULL WHEN contains({text}, '\\') THEN {value}->>'$' "
                f"ELSE substr({text}, 2, length({text}) - 2) END")  # fmt: skip
    return value


def run_view_sql(
    view: dict[str, Any] | ViewDefinition, resources: Iterable[dict[str, Any]], con: Any = None
) -> list[Row]:
    """The rows of `view` over `resources`, computed by DuckDB from the compiled SQL (JSON values, like `run_view`)."""
    import duckdb
    import pyarrow as pa

    from medlake.lake.catalog import duckdb_connect

    vd = view if isinstance(view, ViewDefinition) else parse_view(view)
    table = f"_medlake_view_input_{next(_calls)}"
    sql = compile_view(vd, source=table, typed=False)
    connection = con if con is not None else duckdb_connect()
    connection.register(
        table, pa.table({"resource": pa.array([json.dumps(r) for r in resources], pa.string())})
    )
    try:
        result = connection.execute(sql)
        names = [d[0] for d in result.description]
        fetched = result.fetchall()
    except duckdb.Error as e:
        text = str(e)
        if ERROR_PREFIX not in text:
            raise
        message = text.split(ERROR_PREFIX, 1)[1].strip()
        raise ViewDefinitionError(message, element="view", engine="sql") from None
    finally:
        connection.unregister(table)
    return [
        {n: (None if v is None else json.loads(v)) for n, v in zip(names, row, strict=True)}
        for row in fetched
    ]
