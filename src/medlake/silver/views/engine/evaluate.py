"""The reference evaluator: a ViewDefinition over a list of resources -> rows, in plain Python.

Clear rather than fast (the DuckDB compiler is for whole tables). A select's rows are the
cross product of its own columns, each nested select, and the concatenated unionAll branches;
`forEach` repeats that per item of a collection (inner join), `forEachOrNull` keeps one row
with empty focus when the collection is empty (left join), `repeat` walks a tree depth-first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.fhirpath_eval import Context, TypedStr, evaluate
from medlake.silver.views.engine.fhirpath_parse import Node
from medlake.silver.views.engine.viewdef import Column, Select, ViewDefinition, parse_view

Row = dict[str, Any]


def run_view(view: dict[str, Any] | ViewDefinition, resources: Iterable[dict[str, Any]]) -> list[Row]:
    """The rows of `view` over `resources` (others than `view.resource` are skipped), columns in order."""
    vd = view if isinstance(view, ViewDefinition) else parse_view(view)
    names = vd.column_names()
    rows: list[Row] = []
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != vd.resource:
            continue
        ctx = Context(resource, vd.constants, 0)
        if not all(_where_holds(path, expr, resource, ctx) for path, expr in vd.where):
            continue
        rows.extend({n: row.get(n) for n in names} for row in _select(vd.select, [resource], ctx))
    return rows


def _where_holds(path: str, expr: Node, resource: dict[str, Any], ctx: Context) -> bool:
    result = evaluate(expr, [resource], ctx)
    if not result:
        return False
    if len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    raise ViewDefinitionError(
        f"where path `{path}` must yield a boolean, got {len(result)} value(s) of type {type(result[0]).__name__}",
        element="where",
        resource_id=resource.get("id"),
    )


def _select(select: Select, focus: list[Any], ctx: Context) -> list[Row]:
    """Rows of `select` with `focus` (one item, or empty) as the current node."""
    if select.for_each is not None:
        items = evaluate(select.for_each, focus, ctx)
        if not items and select.or_null:
            return _body(select, [], _at(ctx, 0))
        return [row for i, item in enumerate(items) for row in _body(select, [item], _at(ctx, i))]
    if select.repeat:
        items = _walk(select.repeat, focus, ctx)
        return [row for i, item in enumerate(items) for row in _body(select, [item], _at(ctx, i))]
    return _body(select, focus, ctx)


def _at(ctx: Context, row_index: int) -> Context:
    return Context(ctx.resource, ctx.constants, row_index)


def _walk(paths: tuple[Node, ...], focus: list[Any], ctx: Context) -> list[Any]:
    """Every node reachable from `focus` through `paths`, depth-first, parents before children."""
    out: list[Any] = []
    for path in paths:
        for child in evaluate(path, focus, ctx):
            out.append(child)
            out.extend(_walk(paths, [child], ctx))
    return out


def _body(select: Select, focus: list[Any], ctx: Context) -> list[Row]:
    rows: list[Row] = [{c.name: _column(c, focus, ctx) for c in select.columns}]
    for nested in select.selects:
        rows = _cross(rows, _select(nested, focus, ctx))
    if select.union_all:
        rows = _cross(rows, [row for branch in select.union_all for row in _select(branch, focus, ctx)])
    return rows


def _cross(left: list[Row], right: list[Row]) -> list[Row]:
    return [{**a, **b} for a in left for b in right]


def _column(column: Column, focus: list[Any], ctx: Context) -> Any:
    values = [_plain(v) for v in evaluate(column.expr, focus, ctx)]
    if column.collection:
        return values
    if len(values) > 1:
        raise ViewDefinitionError(
            f"column `{column.name}` path `{column.path}` yielded {len(values)} values; "
            "set `collection: true` or narrow the path (e.g. with first())",
            element="column",
            resource_id=ctx.resource.get("id"),
        )
    return values[0] if values else None


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, TypedStr) else value
