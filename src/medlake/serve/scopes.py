"""SMART on FHIR scopes (v2, with v1 `.read` / `.write` / `.*` read as their v2 letters).

A clinical scope is `context/ResourceType.permissions`:

    patient/Observation.rs     read and search one patient's observations
    user/*.cruds               everything the user may do, every type
    system/*.rs                a backend service: read and search every type
    patient/*.read             v1: the same as `patient/*.rs`

Permissions are the letters `c r u d s` (create, read, update, delete, search), each at most
once and in that order. Scopes that are not clinical (`openid`, `fhirUser`, `launch/patient`,
`offline_access`, …) carry no data access and are skipped. Scopes with a query
(`patient/Observation.rs?category=laboratory`) are parsed but grant nothing yet: medlake
does not filter by them, and granting the whole type would grant more than the token says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Context = Literal["patient", "user", "system"]

LETTERS = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_CLINICAL = re.compile(r"^(patient|user|system)/([^.]*)\.(.*)$")
_TYPE = re.compile(r"^(\*|[A-Z][A-Za-z]{0,63})$")

INTERACTIONS: dict[str, str] = {
    "read": "r",
    "vread": "r",
    "history": "r",
    "search": "s",
    "create": "c",
    "update": "u",
    "patch": "u",
    "delete": "d",
    "export": "rs",
}
"""FHIR interaction → the scope letters it needs (all of them)."""


class ScopeError(ValueError):
    """A scope string that looks clinical but does not follow the grammar."""


@dataclass(frozen=True)
class Scope:
    """One parsed clinical scope."""

    context: Context
    resource_type: str  # a FHIR type or `*`
    letters: str  # a subsequence of `cruds`
    query: str = ""  # the part after `?`, kept but not enforced

    def grants(self, resource_type: str, letters: str) -> bool:
        """Does this scope alone allow every letter in `letters` on `resource_type`?"""
        if self.query or self.resource_type not in ("*", resource_type):
            return False
        return all(ch in self.letters for ch in letters)

    def __str__(self) -> str:
        text = f"{self.context}/{self.resource_type}.{self.letters}"
        return f"{text}?{self.query}" if self.query else text


def parse_scope(text: str) -> Scope | None:
    """A `Scope`, or None for a non-clinical scope; raises `ScopeError` for a malformed clinical one."""
    m = _CLINICAL.match(text)
    if not m:
        return None
    context, rtype, rest = m.group(1), m.group(2), m.group(3)
    perms, _, query = rest.partition("?")
    if not _TYPE.match(rtype):
        raise ScopeError(f"scope `{text[:80]}`: `{rtype[:40]}` is not a resource type; use a FHIR type such as `Observation` or `*`")
    letters = _V1.get(perms, perms)
    if not letters or any(ch not in LETTERS for ch in letters):
        raise ScopeError(
            f"scope `{text[:80]}`: permissions `{perms[:20]}` are not valid; use letters from `cruds` "
            "(v2) or `read`, `write`, `*` (v1)"
        )
    if letters != "".join(ch for ch in LETTERS if ch in letters) or len(set(letters)) != len(letters):
        raise ScopeError(f"scope `{text[:80]}`: permissions `{perms}` must list each of `c r u d s` at most once, in that order")
    ctx: Context = "patient" if context == "patient" else "user" if context == "user" else "system"
    return Scope(ctx, rtype, letters, query)


def parse_scopes(claim: str | Iterable[str]) -> tuple[Scope, ...]:
    """The clinical scopes of a `scope` claim (space-separated or a list); others are skipped.

    Malformed clinical scopes are skipped too, as SMART asks servers to ignore scopes they
    do not understand; call `parse_scope` to see why one was rejected.
    """
    words = claim.split() if isinstance(claim, str) else list(claim)
    found: list[Scope] = []
    for word in words:
        try:
            scope = parse_scope(word)
        except ScopeError:
            continue
        if scope is not None:
            found.append(scope)
    return tuple(found)


def needed_letters(interaction: str) -> str:
    """The scope letters a FHIR interaction (`read`, `search`, …) or a letter string needs."""
    if interaction in INTERACTIONS:
        return INTERACTIONS[interaction]
    if interaction and all(ch in LETTERS for ch in interaction):
        return interaction
    names = ", ".join(sorted(INTERACTIONS))
    raise ScopeError(f"interaction `{interaction[:40]}` is unknown; use one of {names} or letters from `cruds`")


def granting(scopes: Iterable[Scope], resource_type: str, interaction: str) -> tuple[Scope, ...]:
    """The scopes that allow `interaction` on `resource_type`."""
    letters = needed_letters(interaction)
    return tuple(s for s in scopes if s.grants(resource_type, letters))
