"""The ViewDefinition model, parsed from JSON and validated before anything runs.

    ViewDefinition(resource, selects, where, constants)
      Select(columns, selects, union_all, for_each | for_each_or_null | repeat)
        Column(name, path, type, collection)

Every FHIRPath is parsed here, so a bad path, an undefined %constant, a misnamed column or
unionAll branches with different columns are rejected with the element that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medlake.silver.views.engine.errors import FhirPathError, ViewDefinitionError
from medlake.silver.views.engine.fhirpath_parse import Call, Const, Member, Node, parse

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BUILTIN_CONSTANTS = {"rowIndex", "resource", "rootResource"}


@dataclass(frozen=True)
class Column:
    name: str
    path: str
    expr: Node
    type: str | None = None
    collection: bool = False


@dataclass(frozen=True)
class Select:
    columns: tuple[Column, ...] = ()
    selects: tuple[Select, ...] = ()
    union_all: tuple[Select, ...] = ()
    for_each: Node | None = None
    or_null: bool = False  # forEachOrNull: a row of nulls when the collection is empty
    repeat: tuple[Node, ...] = ()

    def column_names(self) -> list[str]:
        """Output columns in the spec's order: own columns, nested selects, then unionAll."""
        names = [c.name for c in self.columns]
        for s in self.selects:
            names.extend(s.column_names())
        if self.union_all:
            names.extend(self.union_all[0].column_names())
        return names


@dataclass(frozen=True)
class ViewDefinition:
    resource: str
    select: Select
    where: tuple[tuple[str, Node], ...] = ()
    constants: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def column_names(self) -> list[str]:
        return self.select.column_names()


def parse_view(view: Any) -> ViewDefinition:
    """A validated `ViewDefinition` from its JSON form; raises `ViewDefinitionError` naming the element."""
    if not isinstance(view, dict):
        raise ViewDefinitionError(f"a ViewDefinition must be a JSON object, got {type(view).__name__}")
    resource = view.get("resource")
    if not isinstance(resource, str) or not resource:
        raise ViewDefinitionError("is required: the FHIR resource type the view reads, e.g. \"Patient\"", element="resource")
    constants = _constants(view.get("constant", []))
    raw_selects = view.get("select")
    if not isinstance(raw_selects, list) or not raw_selects:
        raise ViewDefinitionError("must be a non-empty list of selects", element="select")
    parser = _Parser(set(constants) | _BUILTIN_CONSTANTS)
    select = Select(selects=tuple(parser.select(s, f"select[{i}]") for i, s in enumerate(raw_selects)))
    where = tuple(parser.where(w, f"where[{i}]") for i, w in enumerate(_list(view, "where", "view")))
    _unique(select.column_names())
    name = view.get("name")
    return ViewDefinition(resource, select, where, constants, name if isinstance(name, str) else None)


def _list(obj: dict[str, Any], key: str, element: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ViewDefinitionError(f"`{key}` must be a list, got {type(value).__name__}", element=element)
    return value


def _constants(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, list):
        raise ViewDefinitionError("must be a list of {name, value[x]}", element="constant")
    out: dict[str, Any] = {}
    for i, c in enumerate(raw):
        element = f"constant[{i}]"
        name = c.get("name") if isinstance(c, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise ViewDefinitionError("needs a `name` of letters, digits and _", element=element)
        values = [v for k, v in c.items() if k.startswith("value") and len(k) > 5 and k[5].isupper()]
        if len(values) != 1:
            raise ViewDefinitionError(
                f"constant `{name}` needs exactly one value[x] (valueString, valueInteger, …), got {len(values)}",
                element=element,
            )
        out[name] = values[0]
    return out


def _unique(names: list[str]) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ViewDefinitionError(f"column name `{n}` is used twice; column names must be unique", element="column")
        seen.add(n)


class _Parser:
    def __init__(self, constants: set[str]) -> None:
        self.constants = constants

    def path(self, raw: Any, element: str) -> Node:
        if not isinstance(raw, str):
            raise ViewDefinitionError(f"a FHIRPath must be a string, got {type(raw).__name__} {raw!r}", element=element)
        try:
            node = parse(raw)
        except FhirPathError as e:
            raise FhirPathError(e.context["reason"], raw, e.context["position"], element) from None
        self._check_constants(node, element)
        return node

    def _check_constants(self, node: Any, element: str) -> None:
        if isinstance(node, Const) and node.name not in self.constants:
            known = ", ".join(f"%{k}" for k in sorted(self.constants - _BUILTIN_CONSTANTS)) or "none"
            raise ViewDefinitionError(f"undefined constant `%{node.name}` (defined: {known})", element=element)
        for child in _children(node):
            self._check_constants(child, element)

    def where(self, raw: Any, element: str) -> tuple[str, Node]:
        if not isinstance(raw, dict) or "path" not in raw:
            raise ViewDefinitionError("must be an object with a `path`", element=element)
        return raw["path"], self.path(raw["path"], f"{element}.path")

    def select(self, raw: Any, element: str) -> Select:
        if not isinstance(raw, dict):
            raise ViewDefinitionError(f"must be an object, got {type(raw).__name__}", element=element)
        iterators = [k for k in ("forEach", "forEachOrNull", "repeat") if k in raw]
        if len(iterators) > 1:
            raise ViewDefinitionError(f"use one of forEach, forEachOrNull, repeat; got {', '.join(iterators)}", element=element)
        for_each = raw.get("forEach", raw.get("forEachOrNull"))
        expr = self.path(for_each, f"{element}.{iterators[0]}") if for_each is not None else None
        repeat = tuple(self.path(p, f"{element}.repeat[{i}]") for i, p in enumerate(_list(raw, "repeat", element)))
        if "repeat" in raw and not repeat:
            raise ViewDefinitionError("`repeat` needs at least one path", element=element)
        columns = tuple(self.column(c, f"{element}.column[{i}]") for i, c in enumerate(_list(raw, "column", element)))
        selects = tuple(self.select(s, f"{element}.select[{i}]") for i, s in enumerate(_list(raw, "select", element)))
        unions = tuple(self.select(s, f"{element}.unionAll[{i}]") for i, s in enumerate(_list(raw, "unionAll", element)))
        _same_columns(unions, element)
        if not (columns or selects or unions):
            raise ViewDefinitionError("needs at least one of column, select, unionAll", element=element)
        return Select(columns, selects, unions, expr, "forEachOrNull" in raw, repeat)

    def column(self, raw: Any, element: str) -> Column:
        if not isinstance(raw, dict):
            raise ViewDefinitionError(f"must be an object, got {type(raw).__name__}", element=element)
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ViewDefinitionError(
                f"column name {name!r} must start with a letter and hold only letters, digits and _", element=element
            )
        collection = raw.get("collection", False)
        if not isinstance(collection, bool):
            raise ViewDefinitionError("`collection` must be true or false", element=element)
        expr = self.path(raw.get("path"), f"{element}.path")  # raises unless the path is a string
        return Column(name, str(raw["path"]), expr, raw.get("type"), collection)


def _same_columns(unions: tuple[Select, ...], element: str) -> None:
    if not unions:
        return
    first = unions[0].column_names()
    for i, branch in enumerate(unions[1:], start=1):
        names = branch.column_names()
        if names != first:
            raise ViewDefinitionError(
                f"unionAll branches must have the same columns in the same order: branch 0 has {first}, branch {i} has {names}",
                element=f"{element}.unionAll[{i}]",
            )


def _children(node: Any) -> list[Node]:
    if isinstance(node, Call):
        return ([node.target] if node.target is not None else []) + list(node.args)
    if isinstance(node, Member):
        return [node.target] if node.target is not None else []
    return [v for k in ("target", "index", "left", "right", "operand") if (v := getattr(node, k, None)) is not None]
