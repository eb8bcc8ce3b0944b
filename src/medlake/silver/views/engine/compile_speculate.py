"""The fast path of the compiler: a FHIRPath expression read straight out of one multi-path extraction.

Most columns of real views navigate plain chains (`subject.reference`, `code.coding.code.first()`,
`value.ofType(Quantity).unit`) and most resources have at most one item wherever the chain
steps through an array. For such a column the compiler emits, besides the exact list/lambda
SQL of `compile_fhirpath` (the "slow path"),

- JSON paths into the resource (`$."code"."coding"[0]."code"`), read for every row by one
  `json_extract(resource, [...])` and their types by one `json_type(resource, [...])`;
- a *guard*: a cheap SQL condition over those values under which the column's FHIRPath value
  is exactly what the paths say;

and the cell becomes `CASE WHEN guard THEN fast ELSE slow END`, so DuckDB runs the lambdas only
for the rows where the guard fails. The guard is what keeps the meaning exact. It fails when a
step that should hold one item holds several (`$.code.coding[1]` exists), when a key is
missing but a choice element could stand for it (the resource text contains `"key` followed by
an upper-case letter, or any `\\u` escape), when an element has another shape than assumed
(an array where an object was expected), or when a `where()` cannot be decided on the first
item. Which elements are arrays is a hint (`REPEATING`); a wrong hint costs speed, never rows.

`first()` needs less than a single item: the first item of `$.a[0].b[0].c` is the first of
the flattened collection whenever it exists (the brief's `category[0].coding[0]` trap is the
case where it does not, and then the guard fails unless the collection is provably empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from medlake.silver.views.engine.compile_fhirpath import FhirPathCompiler, json_literal, quote
from medlake.silver.views.engine.fhirpath_parse import (
    Binary,
    Call,
    Const,
    Literal,
    Member,
    Node,
    This,
)

REPEATING = frozenset({
    "identifier", "name", "telecom", "address", "given", "prefix", "suffix", "line", "contact",
    "communication", "link", "coding", "category", "extension", "modifierExtension", "component",
    "contained", "performer", "note", "interpretation", "referenceRange", "hasMember", "derivedFrom",
    "basedOn", "partOf", "reasonCode", "reasonReference", "participant", "diagnosis", "dosageInstruction",
    "item", "adjudication", "insurance", "careTeam", "supportingInfo", "procedure", "reaction",
    "manifestation", "protocolApplied", "qualification", "photo", "generalPractitioner", "entry",
    "statusHistory", "classHistory", "episodeOfCare", "account", "location", "result", "media",
    "specimen", "instantiatesCanonical", "instantiatesUri", "payor", "class", "detail", "subDetail",
})  # fmt: skip
"""FHIR R4 elements that are arrays in (almost) every resource: their chains step through `[0]`."""

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TRUE = "true"


@dataclass(frozen=True)
class Step:
    key: str
    repeats: bool
    root_check: bool = False
    """A missing key would match the focus item itself if its resourceType were the key."""


@dataclass(frozen=True)
class Chain:
    """Items reached from the resource through `steps`; `filters` are where() conditions on them."""

    steps: tuple[Step, ...] = ()
    filters: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    """Guards that must hold whatever the chain's own guard says (set by where() and ofType())."""


@dataclass(frozen=True)
class Value:
    """A computed collection of at most one value: `sql` (JSON, NULL when empty)."""

    sql: str
    one: str = TRUE
    """Guard: the collection is exactly `[sql]` (or empty when `sql` is NULL)."""
    first: str = TRUE
    """Guard: the first item of the collection is `sql` (NULL: the collection is empty)."""
    boolean: str | None = None
    """The same value as a SQL BOOLEAN (NULL when empty), when it is a computed boolean."""
    literal: str | None = None
    """The JSON text of a literal value (known when compiling)."""


Spec = Chain | Value


@dataclass
class Speculator:
    """Compiles FHIRPath nodes to `Spec`s over the per-row extraction of `fp` (None: no fast path)."""

    fp: FhirPathCompiler
    resource_type: str
    constants: dict[str, object] = field(default_factory=dict)

    # -- entry points ----------------------------------------------------------------------------

    def cell(self, node: Node) -> Value | None:
        """The column's value and the guard under which it is exact, or None when not speculable."""
        spec = self.spec(node, Chain())
        return None if spec is None else self.value(spec)

    def value(self, spec: Spec) -> Value:
        if isinstance(spec, Value):
            return spec
        if not spec.steps:
            sql = f"CAST({self.fp.source} AS JSON)"
            return Value(_when(spec.filters, sql), _all(spec.extra), _all(spec.extra))
        leaf = self.fp.extract(self.path(spec.steps))
        text = f"CAST({leaf} AS VARCHAR)"
        present = f"({leaf} IS NOT NULL AND {text} <> 'null' AND NOT starts_with({text}, '['))"
        sql = _when(spec.filters, f"nullif({leaf}, 'null')")
        return Value(sql, self.guard(spec, False, present), self.guard(spec, True, present))

    # -- paths and guards --------------------------------------------------------------------------

    def path(self, steps: tuple[Step, ...], through_last: bool = True) -> str:
        out = "$"
        for i, step in enumerate(steps):
            out += "." + '"' + step.key + '"'
            if step.repeats and (through_last or i < len(steps) - 1):
                out += "[0]"
        return out

    def item_present(self, chain: Chain) -> str:
        """SQL: the chain's item exists and is not a non-empty array (a JSON null or `[]` passes: what
        is read *below* such an item is missing, so the guards of those reads stay exact)."""
        if not chain.steps:
            return TRUE
        at = self.path(chain.steps)
        return f"({self.fp.exists_at(at)} AND NOT {self.fp.exists_at(at + '[0]')})"

    def exactly_present(self, chain: Chain) -> str:
        """SQL: the chain's (first) item exists, is not null and is not an array."""
        if not chain.steps:
            return TRUE
        t = self.fp.type_at(self.path(chain.steps))
        return f"({t} IS NOT NULL AND {t} NOT IN ('NULL', 'ARRAY'))"

    def guard(self, chain: Chain, first: bool, present: str | None = None) -> str:
        """SQL under which the chain is exactly its path's item (`first`: its first item is)."""
        if not chain.steps:
            return _all(chain.extra)
        present = present or self.item_present(chain)
        single = [f"NOT {self.fp.exists_at(self.path(chain.steps[: i + 1], through_last=False) + '[1]')}"
                  for i, s in enumerate(chain.steps) if s.repeats]  # fmt: skip
        empty = self.empty(chain.steps)
        exact = (f"({present} OR ({_all(single)} AND {empty}))" if first
                 else f"({_all(single)} AND ({present} OR {empty}))")  # fmt: skip
        if chain.filters:
            exact = f"(NOT {_all(chain.filters)} OR {exact})"
        return _all((*chain.extra, exact))

    def empty(self, steps: tuple[Step, ...]) -> str:
        """SQL: walking `steps`, the collection provably ends up empty (every array step had <= 1 item).

        Only evaluated for the rows where the item is not there, so it reads the types it needs
        with its own `json_type` call instead of widening the per-row one.
        """
        paths: dict[str, int] = {}

        def t(path: str) -> str:
            return f"_t[{paths.setdefault(path, len(paths) + 1)}]"

        whens = []
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            here = self.path(steps[: i + 1], through_last=False)
            whens.append(f"WHEN {t(here)} IS NULL THEN {self.no_choice(steps[:i], step, t)}")
            whens.append(f"WHEN {t(here)} = 'NULL' THEN true")
            if step.repeats:
                scalar_then = "false" if last else f"{t(here)} <> 'OBJECT'"
                whens.append(f"WHEN {t(here)} <> 'ARRAY' THEN {scalar_then}")
                whens.append(f"WHEN {t(here + '[0]')} IS NULL OR {t(here + '[0]')} = 'NULL' THEN true")
                if not last:
                    whens.append(f"WHEN {t(here + '[0]')} <> 'OBJECT' THEN true")
            elif not last:
                whens.append(f"WHEN {t(here)} <> 'OBJECT' THEN {t(here)} <> 'ARRAY'")
        body = "CASE " + " ".join(whens) + " ELSE false END"
        types = ", ".join(quote(p) for p in paths)
        return f"list_transform([json_type({self.fp.source}, [{types}])], lambda _t: {body})[1]"

    def no_choice(self, before: tuple[Step, ...], step: Step, t: Callable[[str], str]) -> str:
        """SQL: no key of the item at `before` can stand for the missing `step.key` (a choice element)."""
        text = self.fp.source
        checks = [f"NOT regexp_matches({text}, {quote(chr(34) + step.key + '[A-Z]')})", f"NOT contains({text}, '\\u')"]
        if step.root_check:
            checks.append(f"{t(self.path(before) + '.' + chr(34) + 'resourceType' + chr(34))} IS NULL")
        return _all(checks)

    # -- nodes -------------------------------------------------------------------------------------

    def spec(self, node: Node, focus: Spec) -> Spec | None:
        if isinstance(node, Literal):
            if node.value is None:
                return Value("NULL")
            return Value(json_literal(node.value), literal=json.dumps(node.value, ensure_ascii=False))
        if isinstance(node, This):
            return focus
        if isinstance(node, Const):
            return self._constant(node, focus)
        if isinstance(node, Member):
            base = focus if node.target is None else self.spec(node.target, focus)
            return self._member(base, node.name, at_focus=node.target is None)
        if isinstance(node, Call):
            return self._call(node, focus)
        if isinstance(node, Binary):
            return self._binary(node, focus)
        return None

    def _constant(self, node: Const, focus: Spec) -> Spec | None:
        if node.name == "rowIndex":
            return Value("to_json(0)")
        if node.name in ("resource", "rootResource"):
            return Chain()
        value = self.constants.get(node.name)
        values = value if isinstance(value, list) else [value]
        if len(values) != 1 or values[0] is None:
            return None
        return Value(json_literal(values[0]))

    def _member(self, base: Spec | None, key: str, at_focus: bool) -> Spec | None:
        if not isinstance(base, Chain) or not _KEY.match(key):
            return None
        if at_focus and not base.steps and key == self.resource_type:
            return None
        step = Step(key, key in REPEATING, root_check=at_focus and bool(base.steps))
        return replace(base, steps=(*base.steps, step))

    def _call(self, node: Call, focus: Spec) -> Spec | None:
        if node.name == "ofType":
            return self._of_type(node, focus)
        base = focus if node.target is None else self.spec(node.target, focus)
        if base is None:
            return None
        name = node.name
        if name == "first":
            v = self.value(base)
            return Value(v.sql, v.first, v.first)
        if name == "where":
            return self._where(base, node.args[0])
        if name in ("exists", "empty"):
            if node.args:
                base = self._where(base, node.args[0])
                if base is None:
                    return None
            return self._exists(base, negate=name == "empty")
        if name == "not":
            v = self.value(base)
            return _boolean(f"NOT ({_truth(v)})", v.one)
        if name == "getResourceKey" and isinstance(base, Chain) and not base.steps:
            return Value(self.fp.extract('$."id"'), _all(base.extra), _all(base.extra))
        if name == "getReferenceKey" and isinstance(base, Chain):
            return self._reference_key(base, node)
        return None

    def _where(self, base: Spec, predicate: Node) -> Spec | None:
        if not isinstance(base, Chain):
            return None
        item = replace(base, filters=(), extra=())
        pred = self.spec(predicate, item)
        if pred is None:
            return None
        p = self.value(pred)
        extra = (*base.extra, self.guard(base, first=False), p.one)
        return replace(base, filters=(*base.filters, f"({_truth(p)}) IS TRUE"), extra=extra)

    def _exists(self, base: Spec, negate: bool) -> Value:
        if isinstance(base, Chain):
            present = self.exactly_present(base)
            found = _all((present, *base.filters))
            guard = self.guard(base, True, present)
        else:
            found, guard = f"({base.sql}) IS NOT NULL", base.first
        return _boolean(f"NOT ({found})" if negate else found, guard)

    def _reference_key(self, base: Chain, node: Call) -> Value | None:
        wanted = None
        if node.args:
            arg = node.args[0]
            if not isinstance(arg, Member) or arg.target is not None:
                return None
            wanted = arg.name
        ref = self.fp.extract(self.path(base.steps) + '."reference"')
        text = _unquoted(ref)
        keep = [*base.filters, f"starts_with(CAST({ref} AS VARCHAR), '\"')", f"NOT starts_with({text}, '#')", f"contains({text}, '/')"]
        if wanted is not None:
            keep.append(f"split_part({text}, '/', -2) = {quote(wanted)}")
        sql = f"CASE WHEN {_all(keep)} THEN to_json(split_part({text}, '/', -1)) END"
        guard = _all((self.guard(base, first=False), f"({ref} IS NULL OR NOT contains({text}, '_history'))"))
        return Value(sql, guard, guard)

    def _of_type(self, node: Call, focus: Spec) -> Spec | None:
        target = node.args[0]
        stem = node.target
        if not isinstance(target, Member) or not isinstance(stem, Member):
            return None
        base = focus if stem.target is None else self.spec(stem.target, focus)
        if not isinstance(base, Chain) or not _KEY.match(stem.name):
            return None
        if stem.target is None and not base.steps and stem.name == self.resource_type:
            return None
        key = stem.name + target.name[0].upper() + target.name[1:]
        absent = f"NOT {self.fp.exists_at(self.path(base.steps) + '.' + chr(34) + stem.name + chr(34))}"
        chain = self._member(replace(base, extra=(*base.extra, absent)), key, at_focus=False)
        return chain

    def _binary(self, node: Binary, focus: Spec) -> Spec | None:
        left, right = self.spec(node.left, focus), self.spec(node.right, focus)
        if left is None or right is None:
            return None
        a, b = self.value(left), self.value(right)
        guard = _all((a.one, b.one))
        if node.op in ("=", "!=", "~", "!~"):
            same = _equal(a, b)
            result = same if node.op in ("=", "~") else f"NOT ({same})"
            return _boolean(f"CASE WHEN ({a.sql}) IS NULL OR ({b.sql}) IS NULL THEN NULL ELSE {result} END", guard)
        x, y = _truth(a), _truth(b)
        logic = {"and": f"({x}) AND ({y})", "or": f"({x}) OR ({y})", "xor": f"({x}) <> ({y})",
                 "implies": f"(NOT ({x})) OR ({y})"}.get(node.op)  # fmt: skip
        return None if logic is None else _boolean(logic, guard)


def _when(conditions: tuple[str, ...], sql: str) -> str:
    return f"CASE WHEN {_all(conditions)} THEN {sql} END" if conditions else sql


def _all(conditions: tuple[str, ...] | list[str]) -> str:
    kept = [c for c in conditions if c != TRUE]
    return "(" + " AND ".join(kept) + ")" if kept else TRUE


def _truth(v: Value) -> str:
    """FHIRPath singleton truth of a value: NULL when empty, true for any non-boolean."""
    if v.boolean is not None:
        return v.boolean
    return f"CASE WHEN ({v.sql}) IS NULL THEN NULL ELSE CAST({v.sql} AS VARCHAR) <> 'false' END"


def _boolean(condition: str, guard: str) -> Value:
    return Value(f"to_json({condition})", guard, guard, boolean=f"({condition})")


def _unquoted(json_text: str) -> str:
    """The string a JSON string's text holds (sliced when it has no escapes, else parsed)."""
    text = f"CAST({json_text} AS VARCHAR)"
    return f"(CASE WHEN contains({text}, '\\') THEN {json_text}->>'$' ELSE substr({text}, 2, length({text}) - 2) END)"


def _equal(a: Value, b: Value) -> str:
    """FHIRPath `=` of two JSON values: numbers by value, anything else by its JSON text."""
    numeric = "'-0123456789'"
    for lit, other in ((a.literal, b.sql), (b.literal, a.sql)):
        if lit is not None and lit[:1] not in "-0123456789":
            return f"CAST({other} AS VARCHAR) = {quote(lit)}"
    return (f"CASE WHEN contains({numeric}, left(CAST({a.sql} AS VARCHAR), 1)) AND contains({numeric}, left(CAST({b.sql} AS VARCHAR), 1)) "
            f"THEN CAST({a.sql} AS DOUBLE) = CAST({b.sql} AS DOUBLE) ELSE CAST({a.sql} AS VARCHAR) = CAST({b.sql} AS VARCHAR) END")  # fmt: skip
