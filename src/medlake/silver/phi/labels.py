"""Security labels on silver resources: `meta.security` codings from the PHI catalogue.

Each resource gets one HL7 v3 Confidentiality coding — `R` (restricted) when it carries an
identifier that names a person on its own (a name, an address, a phone number, an SSN, an
MRN, a member id, …: `categories.DIRECT`), else `N` (normal: dates and opaque codes only, or
no PHI at all) — and one medlake PHI-category coding per Safe Harbor category present
(`https://medlake.dev/fhir/CodeSystem/phi-category`, codes from `categories.py`).

The silver stage calls `apply` right before the store writes. `meta` is outside the
content hash, so labels never create a version by themselves. Hot path: the catalogue is
compiled once per resource type into (first key, path, filter) checks, most of which are a
dict lookup, and the label lists are shared per category set (read-only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from medlake.silver.phi.catalogue import ELEMENTS, FREE_TEXT, Element
from medlake.silver.phi.categories import CATEGORIES, DIRECT

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PHI_CATEGORY = "https://medlake.dev/fhir/CodeSystem/phi-category"

_ORDER = {c.code: i for i, c in enumerate(CATEGORIES)} | {FREE_TEXT: len(CATEGORIES)}
_RESTRICTED = {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"}
_NORMAL = {"system": CONFIDENTIALITY, "code": "N", "display": "normal"}


_Where = tuple[tuple[int, frozenset[str]], ...]  # (index into _Group.paths, values), any matches


@dataclass(frozen=True, slots=True)
class _Group:
    """The checks under one element (`rest` below a top-level key): categories its mere
    presence shows, and categories shown by items whose sub-paths hold given values."""

    rest: tuple[str, ...]
    plain: frozenset[str]
    paths: tuple[tuple[str, ...], ...]
    rules: tuple[tuple[str, _Where], ...]


@dataclass(frozen=True, slots=True)
class _TypeChecks:
    """The checks of one resource type by top-level key: categories a key's mere presence
    shows (`simple`), and groups that look inside it (`deep`)."""

    simple: dict[str, frozenset[str]]
    deep: dict[str, tuple[_Group, ...]]
    keys: frozenset[str]  # every key of `simple` and `deep`


def _group(rest: tuple[str, ...], elements: list[Element]) -> _Group:
    paths: list[tuple[str, ...]] = []
    rules: list[tuple[str, _Where]] = []
    for e in elements:
        if e.where:
            alts = []
            for p, values in e.where:
                path = tuple(p.split("."))
                if path not in paths:
                    paths.append(path)
                alts.append((paths.index(path), values))
            rules.append((e.category, tuple(alts)))
    plain = frozenset(e.category for e in elements if not e.where)
    return _Group(rest, plain, tuple(paths), tuple(rules))


def _by_type() -> dict[str, _TypeChecks]:
    simple: dict[str, dict[str, set[str]]] = {}
    deep: dict[str, dict[str, dict[tuple[str, ...], list[Element]]]] = {}
    for e in ELEMENTS:
        first, *rest = e.path.split(".")[1:]
        if not rest and not e.where:
            simple.setdefault(e.resource_type, {}).setdefault(first, set()).add(e.category)
        else:
            deep.setdefault(e.resource_type, {}).setdefault(first, {}).setdefault(tuple(rest), []).append(e)
    return {
        t: _TypeChecks(
            {k: frozenset(v) for k, v in simple.get(t, {}).items()},
            {k: tuple(_group(r, es) for r, es in groups.items()) for k, groups in deep.get(t, {}).items()},
            frozenset(simple.get(t, {})) | frozenset(deep.get(t, {})),
        )
        for t in simple.keys() | deep.keys()
    }


_CHECKS = _by_type()
_NONE = _TypeChecks({}, {}, frozenset())


def _items(node: Any, segs: tuple[str, ...]) -> list[Any]:
    """The values at `segs` under `node`, lists flattened at every step."""
    nodes = node if isinstance(node, list) else [node]
    for seg in segs:
        nxt: list[Any] = []
        for n in nodes:
            v = n.get(seg) if isinstance(n, dict) else None
            if isinstance(v, list):
                nxt.extend(v)
            elif v is not None:
                nxt.append(v)
        nodes = nxt
    return nodes


def _strings(item: Any, path: tuple[str, ...]) -> set[str]:
    return {x for x in _items(item, path) if isinstance(x, str)}


def _deep(value: Any, g: _Group, found: set[str]) -> None:
    items = _items(value, g.rest)
    if not items:
        return
    found |= g.plain
    if not g.rules:
        return
    for item in items:
        seen = [_strings(item, p) for p in g.paths]
        for cat, alts in g.rules:
            if cat not in found and any(not values.isdisjoint(seen[i]) for i, values in alts):
                found.add(cat)


def categories_of(resource: dict[str, Any]) -> set[str]:
    """The Safe Harbor category codes (and `free_text`) present in one FHIR resource."""
    checks = _CHECKS.get(resource.get("resourceType", ""), _NONE)
    found: set[str] = set()
    for key in resource.keys() & checks.keys:  # C-level: usually two to five keys
        value = resource[key]
        if value is None:
            continue
        cats = checks.simple.get(key)
        if cats is not None:
            found |= cats
        for g in checks.deep.get(key, ()):
            _deep(value, g, found)
    return found


@lru_cache(maxsize=4096)
def _codings(cats: frozenset[str]) -> tuple[dict[str, str], ...]:
    conf = _RESTRICTED if cats & DIRECT else _NORMAL
    return (conf, *({"system": PHI_CATEGORY, "code": c} for c in sorted(cats, key=_ORDER.__getitem__)))


def security_labels(resource: dict[str, Any]) -> list[dict[str, str]]:
    """The `meta.security` codings medlake gives `resource` (the dicts are shared: read-only)."""
    return list(_codings(frozenset(categories_of(resource))))


def label(resource: dict[str, Any]) -> None:
    """Set the medlake security labels in `resource["meta"]["security"]`, keeping any label
    the source sent of another system."""
    ours = security_labels(resource)
    meta = resource.get("meta")
    if meta is None:
        resource["meta"] = {"security": ours}
        return
    theirs = meta.get("security")
    if theirs:
        mine = (CONFIDENTIALITY, PHI_CATEGORY)
        ours = [s for s in theirs if not (isinstance(s, dict) and s.get("system") in mine)] + ours
    meta["security"] = ours


def apply(records: Iterable[Any]) -> None:
    """Label the resource of every record (anything with a `.resource` dict, e.g.
    `store.SilverRecord`) in place."""
    for r in records:
        label(r.resource)
