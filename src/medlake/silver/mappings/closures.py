"""The compiled form of a mapping spec: per-resource plans and the closures they call.

A compiled kind reads its columns as a tuple per row (`CompiledKind.columns_of`); every value
of a resource is a closure over that tuple (`Getter`). `medlake.silver.mappings.compile`
builds them; `medlake.silver.mappings.delimited.map_rows` runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from medlake.errors import MappingError
from medlake.silver.mappings.spec import SpecProblem
from medlake.silver.mappings.values import WithOriginal, original_text

Row = tuple[Any, ...]
Getter = Callable[[Row], Any]
Cond = Callable[[Row], bool]

Entry = tuple[str, "Getter | int", bool]
"""(element name, getter — or the row index of a plain column read —, reads a column)."""


class RowError(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class Plan:
    type: str
    when: Cond | None
    source_id: Getter
    id_column: str | None
    empty_id_message: str
    build: Callable[[Row, str, dict[str, Any]], dict[str, Any]]


@dataclass
class CompiledKind:
    kind: str
    columns: list[str]  # logical column names, by index into the row tuple
    declared: tuple[str, ...] | None
    plans: list[Plan]
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


def clean(value: Any) -> str | None:
    if value is None:
        return None
    text: str = value.strip()
    return text or None


def const(value: Any) -> Getter:
    """A getter that returns `value` whatever the row; marked so compiling can fold it."""

    def constant(row: Row) -> Any:
        return value

    constant.constant = True  # type: ignore[attr-defined]
    return constant


def is_constant(getter: Getter | int) -> bool:
    return getattr(getter, "constant", False) is True


def folded(getter: Getter) -> Getter:
    """A builder of constants only, evaluated once: the value is shared by every resource
    built (resources are serialized, never mutated, after they are built)."""
    return const(getter(()))


NONE: Getter = const(None)



def keep(text: str, value: str) -> Any:
    """`value`, with the original text beside it when the text differs."""
    return value if value == text else WithOriginal(value, original_text(text))


def render_parts(parts: list[str | int]) -> Getter:
    if not any(isinstance(p, int) for p in parts):
        text = "".join(str(p) for p in parts).strip()
        return const(text or None)
    first = parts[0]
    if len(parts) == 1 and isinstance(first, int):
        i = first

        def one(row: Row) -> str | None:
            v = row[i]
            if v is None:
                return None
            text: str = v.strip()
            return text or None

        one.column_index = i  # type: ignore[attr-defined]  # lets `fill` read it inline
        return one

    def many(row: Row) -> str | None:
        out: list[str] = []
        seen = False
        for p in parts:
            if isinstance(p, int):
                v = clean(row[p])
                if v is not None:
                    seen = True
                    out.append(v)
            else:
                out.append(p)
        return ("".join(out).strip() or None) if seen else None

    return many



def fill(out: dict[str, Any], entries: list[Entry], row: Row) -> bool:
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


def object_builder(entries: list[Entry]) -> Getter:
    has_data = any(d for _, _, d in entries)

    def build(row: Row) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        got = fill(out, entries, row)
        if (has_data and not got) or not out:
            return None
        return out

    return build


def list_builder(getters: list[Getter]) -> Getter:
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
