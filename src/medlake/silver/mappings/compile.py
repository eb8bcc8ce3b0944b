"""Compiling a mapping spec: one kind's resources and their field trees → `CompiledKind`.

`Compiler` places each field path (`name[0].given[1]`) in a tree of nodes and lists, then
turns the tree into builder closures (`medlake.silver.mappings.closures`); the values at its
leaves are compiled by `ValueCompiler` (`medlake.silver.mappings.compile_values`). Problems
with the spec are collected, not raised, so one load reports all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from medlake.silver.mappings.closures import (
    CompiledKind,
    Entry,
    Getter,
    Plan,
    Row,
    fill,
    folded,
    is_constant,
    list_builder,
    object_builder,
)
from medlake.silver.mappings.compile_values import ValueCompiler
from medlake.silver.mappings.spec import RESOURCE_TYPES, Key, did_you_mean

RESERVED_ROOT = frozenset({"resourceType", "id", "meta"})

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


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


class Compiler(ValueCompiler):
    """Turns one kind of a validated spec model into closures; collects problems."""

    def compile(self) -> CompiledKind:
        base: Key = ("kinds", self.kind, "resources")
        plans = [self.resource(i, (*base, i)) for i in range(len(self.kind_model.resources))]
        declared = self.kind_model.columns
        return CompiledKind(
            self.kind, self.columns, tuple(declared) if declared else None, plans, self.problems
        )
    # -- resources and field trees

    def resource(self, i: int, key: Key) -> Plan:
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
            fill(out, entries, row)
            return out

        message = f"resource `{rtype}`: its id ({where}) is empty"
        return Plan(rtype, when, tpl.render, column, message, build)

    def steps(self, path: str, key: Key) -> list[tuple[str, int | None]] | None:
        """The (element, index) steps of a field path; None (and a problem) if it is bad."""
        steps: list[tuple[str, int | None]] = []
        for seg in path.split("."):
            m = _SEGMENT.fullmatch(seg.strip())
            if m is None:
                self.problem(
                    key,
                    f"bad path `{path}`: each step is `element` or `element[n]`, joined by dots "
                    f"(e.g. `name[0].given[1]`)",
                )
                return None
            steps.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
        return steps

    def place(self, root: _Node, path: str, expr: Any, key: Key) -> None:
        """Compile the value `expr` and put it at `path` under `root`, if the path fits."""
        steps = self.steps(path, key)
        if steps is None:
            return
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
            build = object_builder(entries)
            if all(is_constant(g) for _, g, _ in entries):
                return folded(build), False
            return build, any(d for _, _, d in entries)
        items = [self.compile_child(child.items[i]) for i in sorted(child.items)]
        getters = [g for g, _ in items]
        if all(is_constant(g) for g in getters):
            return folded(list_builder(getters)), False
        return list_builder(getters), any(d for _, d in items)

    def object_value(self, fields: dict[str, Any], key: Key) -> tuple[Getter, bool]:
        """An `object` value: a tree of its own, placed and compiled like a resource's fields."""
        node = _Node("", (*key, "object"))
        for path, sub in fields.items():
            self.place(node, path, sub, (*key, "object", path))
        return self.compile_child(node)
