"""X12 → FHIR R4: the dispatcher that hands each transaction set to its family's mapping.

837P/837I/837D → `x12_837`, 835 → `x12_835`, 834 → `x12_834`, 270/271 → `x12_270`,
277/277CA → `x12_276` (a 276 inquiry states nothing about the claim: it stays in bronze). 4010 sets, acknowledgments (999, TA1, 277CA) and families with no
mapping are counted in `meta.unmapped` (segment `*`) and stay in bronze.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medlake.silver.mappings import family_function
from medlake.silver.mappings.x12_common import (
    Balance,
    MappedX12,
    SetMapper,
    X12Context,
    X12MapProblem,
)

if TYPE_CHECKING:
    from medlake.formats.x12 import TransactionSet

FAMILIES = {
    "837P": "x12_837",
    "837I": "x12_837",
    "837D": "x12_837",
    "835": "x12_835",
    "834": "x12_834",
    "270": "x12_270",
    "271": "x12_270",
    "277": "x12_276",
    "277CA": "x12_276",
}
"""Transaction-set family → the mapping module (in `medlake.silver.mappings`) with `map_set(m)`."""

Family = Callable[[SetMapper], None]


@dataclass
class X12Mapping:
    resources: list[MappedX12] = field(default_factory=list)
    problems: list[X12MapProblem] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    """Families (or `4010 <family>`) with no mapping → number of sets."""


def family(name: str) -> Family | None:
    module = FAMILIES.get(name)
    if module is None:
        return None
    fn: Family = family_function(module, "map_set")
    return fn


def map_sets(sets: list[tuple[int, TransactionSet]], ctx: X12Context) -> X12Mapping:
    """Map transaction sets (record index, set) into one result."""
    out = X12Mapping()
    for record_index, ts in sets:
        fn = family(ts.family) if ts.version == "5010" else None
        if fn is None:
            out.unmapped[ts.family if ts.version == "5010" else f"{ts.version} {ts.family}"] += 1
            continue
        m = SetMapper(ts, ctx, record_index)
        try:
            fn(m)
        except Exception as err:  # a mapping bug must not stop the batch: the set is quarantined
            where = m.position()
            out.problems.append(X12MapProblem(record_index, where, f"the {ts.family} mapping failed: {type(err).__name__}: {err}"))
            continue
        out.resources.extend(m.resources)
        out.problems.extend(m.problems)
        out.balances.extend(m.balances)
    return out
