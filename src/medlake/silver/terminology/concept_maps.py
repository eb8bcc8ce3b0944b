"""Tenant-supplied concept maps: local codes → standard codes, from CSV files.

A concept map file is UTF-8 CSV with a header line. Columns (any order):

    source_system   required  URI of the code system the source sends (a local OID or URN is fine)
    source_code     required  the code as the source sends it
    target_system   required  URI of the standard system (http://loinc.org, RxNorm, …)
    target_code     required  the standard code
    target_display  optional  display text for the added coding
    equivalence     optional  FHIR R4 ConceptMap equivalence; default `equivalent`

A row with equivalence `unmatched` may leave the target empty: it records that the code was
looked at and has no standard equivalent. When `source_system` is the NDC system, source codes
may be written in any NDC form and are normalized to 11 digits (so NDC → RxNorm maps work
whatever form the feed uses). Files are validated as a whole on load; every problem is
reported with file, line and column.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from medlake.errors import ConfigError
from medlake.silver.terminology.ndc import NDC_SYSTEM, normalize_ndc

REQUIRED = ("source_system", "source_code", "target_system", "target_code")
OPTIONAL = ("target_display", "equivalence")
COLUMNS = REQUIRED + OPTIONAL
EQUIVALENCES = (
    "relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact", "unmatched", "disjoint",
)
NOT_A_MATCH = frozenset({"unmatched", "disjoint"})
MAX_REPORTED = 10


class MapTarget(NamedTuple):
    """One target of a source code, with the map (file stem) it came from."""

    system: str
    code: str
    display: str | None
    equivalence: str
    map_name: str


class ConceptMaps:
    """Every loaded map, by (source system, source code)."""

    def __init__(self, entries: dict[tuple[str, str], tuple[MapTarget, ...]]) -> None:
        self._entries = entries
        self.systems = frozenset(s for s, _ in entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, system: str, code: str) -> tuple[MapTarget, ...]:
        """The targets of a source code (NDC codes must already be 11 digits); () when unmapped."""
        return self._entries.get((system, code), ())


def load_concept_maps(paths: Iterable[str | Path]) -> ConceptMaps:
    """Read and validate concept map files; raise one `ConfigError` listing every problem."""
    entries: dict[tuple[str, str], list[MapTarget]] = {}
    for path in paths:
        for key, target in _read(Path(path)):
            entries.setdefault(key, []).append(target)
    return ConceptMaps({k: tuple(v) for k, v in entries.items()})


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[tuple[int, int | None, str]] = []

    def add(self, line: int, column: int | None, message: str) -> None:
        self.items.append((line, column, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = [
            f"line {line}" + (f" column {col}" if col is not None else "") + f": {msg}"
            for line, col, msg in self.items[:MAX_REPORTED]
        ]
        more = len(self.items) - MAX_REPORTED
        tail = f"\n  … and {more} more" if more > 0 else ""
        line, col, _ = self.items[0]
        raise ConfigError(
            f"concept map `{self.path}` has {len(self.items)} problem(s):\n  " + "\n  ".join(shown) + tail,
            path=str(self.path), line=line, column=col,
        )


def _read(path: Path) -> list[tuple[tuple[str, str], MapTarget]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"concept map `{path}` not found; fix the path in `terminology.concept_maps`", path=str(path)
        ) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"concept map `{path}` is not UTF-8 text (byte {e.start}); save it as UTF-8", path=str(path)) from None
    problems = _Problems(path)
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        problems.add(1, None, "the file is empty; the first line must be the header: " + ",".join(COLUMNS))
        problems.raise_if_any()
    index = _header(header or [], problems)
    problems.raise_if_any()
    rows: list[tuple[tuple[str, str], MapTarget]] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        row = _row(values, index, len(header or []), line, path.stem, problems)
        if row is None:
            continue
        key = (*row[0], row[1].system, row[1].code)
        if key in seen:
            problems.add(line, None, f"repeats the mapping of line {seen[key]} (`{row[0][1]}` → `{row[1].code}`)")
            continue
        seen[key] = line
        rows.append(row)
    problems.raise_if_any()
    return rows


def _header(header: list[str], problems: _Problems) -> dict[str, int]:
    index: dict[str, int] = {}
    for col, raw in enumerate(header, start=1):
        name = raw.strip().lower()
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            problems.add(1, col, f"unknown column `{raw.strip()}`; {hint}columns are: {', '.join(COLUMNS)}")
        elif name in index:
            problems.add(1, col, f"column `{name}` appears twice (also column {index[name] + 1})")
        else:
            index[name] = col - 1
    for name in REQUIRED:
        if name not in index:
            problems.add(1, None, f"missing column `{name}`; required columns are: {', '.join(REQUIRED)}")
    return index


def _row(
    values: list[str], index: dict[str, int], width: int, line: int, map_name: str, problems: _Problems
) -> tuple[tuple[str, str], MapTarget] | None:
    if len(values) != width:
        problems.add(line, None, f"{len(values)} values, but the header has {width} columns")
        return None
    get = {name: values[i].strip() for name, i in index.items()}
    before = len(problems.items)
    equivalence = get.get("equivalence") or "equivalent"
    if equivalence not in EQUIVALENCES:
        problems.add(line, index["equivalence"] + 1, f"`{equivalence}` is not a FHIR equivalence; use one of: {', '.join(EQUIVALENCES)}")
    needed = ("source_system", "source_code") if equivalence == "unmatched" else REQUIRED
    for name in REQUIRED:
        value = get[name]
        if not value:
            if name in needed:
                problems.add(line, index[name] + 1, f"`{name}` is empty")
        elif name.endswith("_system") and ":" not in value:
            problems.add(line, index[name] + 1, f"`{value}` is not a code system URI (e.g. `http://loinc.org`)")
    source_code = _ndc(get["source_code"], line, index["source_code"] + 1, problems) if get["source_system"] == NDC_SYSTEM else get["source_code"]
    target_code = _ndc(get["target_code"], line, index["target_code"] + 1, problems) if get["target_system"] == NDC_SYSTEM else get["target_code"]
    if len(problems.items) > before:
        return None
    target = MapTarget(get["target_system"], target_code, get.get("target_display") or None, equivalence, map_name)
    return (get["source_system"], source_code), target


def _ndc(code: str, line: int, column: int, problems: _Problems) -> str:
    if not code:
        return code
    result = normalize_ndc(code)
    if result.ndc11 is None:
        problems.add(line, column, result.error or f"`{code}` is not an NDC")
        return code
    return result.ndc11
