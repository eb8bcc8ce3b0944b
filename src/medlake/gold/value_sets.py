"""User-supplied value sets for the gold quality measures.

    members = load_value_sets("config/acme/value_sets")   # every *.csv in the folder
    write_value_sets(con, members)                        # gold_inputs.quality_user_value_sets

The shipped seed `quality_value_sets.csv` holds only public codes (ICD-10-CM/PCS, HCPCS
Level II, LOINC). CPT and SNOMED CT members (office visits, hospice encounters, …) are the
tenant's own files: UTF-8 CSV with the header `value_set,code_system,code`, one member a line.
`code_system` is a FHIR system URI or one of the short names in `SYSTEM_ALIASES`. The dbt models
union these with the seed; a user member always matches its code exactly.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medlake.errors import ConfigError

HEADER = ("value_set", "code_system", "code")
TABLE = "quality_user_value_sets"
"""Table in schema `gold_inputs` of gold.duckdb that the quality models read."""

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
SYSTEM_ALIASES: dict[str, str] = {
    "cpt": "http://www.ama-assn.org/go/cpt",
    "snomed": "http://snomed.info/sct",
    "snomed-ct": "http://snomed.info/sct",
    "hcpcs": HCPCS,
    "icd-10-cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "icd-10-pcs": "http://www.cms.gov/Medicare/Coding/ICD10",
    "loinc": "http://loinc.org",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "cvx": "http://hl7.org/fhir/sid/cvx",
}
"""Short names accepted in `code_system` (case-insensitive), and the URI each stands for."""

_VALUE_SET = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ValueSetMember:
    """One user-supplied member; `source_file` and `line` say where it came from."""

    value_set: str
    code_system: str
    code: str
    source_file: str
    line: int


def _system(raw: str, path: Path, line: int) -> str:
    text = raw.strip()
    alias = SYSTEM_ALIASES.get(text.lower())
    if alias is not None:
        return alias
    if text == "http://www.nlm.nih.gov/research/umls/hcpcs":
        return HCPCS
    if "://" in text or text.startswith("urn:"):
        return text
    raise ConfigError(
        f"value-set file `{path}` line {line}: code_system `{text}` is neither a URI nor a known "
        f"short name; use a FHIR system URI or one of {', '.join(sorted(SYSTEM_ALIASES))}",
        file=str(path),
        line=line,
    )


def _read_file(path: Path) -> list[ValueSetMember]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(c.strip().lower() for c in rows[0]) != HEADER:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise ConfigError(
            f"value-set file `{path}` line 1: the header must be `{','.join(HEADER)}`, found `{found}`",
            file=str(path),
            line=1,
        )
    members: list[ValueSetMember] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue  # blank line
        if len(row) != 3:
            raise ConfigError(
                f"value-set file `{path}` line {line}: expected 3 fields "
                f"(value_set,code_system,code), found {len(row)}",
                file=str(path),
                line=line,
            )
        value_set, system, code = (c.strip() for c in row)
        if not _VALUE_SET.match(value_set):
            raise ConfigError(
                f"value-set file `{path}` line {line}: value_set `{value_set}` must be lower-case "
                "letters, digits and `_`, starting with a letter (e.g. `qualifying_visit`)",
                file=str(path),
                line=line,
            )
        if not code:
            raise ConfigError(
                f"value-set file `{path}` line {line}: code is empty",
                file=str(path),
                line=line,
            )
        members.append(ValueSetMember(value_set, _system(system, path, line), code, path.name, line))
    return members


def load_value_sets(folder: str | Path | None) -> list[ValueSetMember]:
    """Every member of every `*.csv` in `folder` (sorted by file name); [] for None.

    Raises `ConfigError` naming the file and line of the first bad row.
    """
    if folder is None:
        return []
    base = Path(folder)
    if not base.is_dir():
        raise ConfigError(
            f"value-set folder `{base}` does not exist; create it or fix `value_sets_dir` of the tenant",
            value_sets_dir=str(base),
        )
    members: list[ValueSetMember] = []
    for path in sorted(base.glob("*.csv")):
        members.extend(_read_file(path))
    return members


def write_value_sets(con: Any, members: list[ValueSetMember]) -> None:
    """(Re)create `gold_inputs.quality_user_value_sets` on DuckDB connection `con`, empty
    when `members` is."""
    con.execute("CREATE SCHEMA IF NOT EXISTS gold_inputs")
    con.execute(
        f"CREATE OR REPLACE TABLE gold_inputs.{TABLE} "
        "(value_set VARCHAR, code_system VARCHAR, code VARCHAR, source_file VARCHAR)"
    )
    if members:
        con.executemany(
            f"INSERT INTO gold_inputs.{TABLE} VALUES (?, ?, ?, ?)",
            [(m.value_set, m.code_system, m.code, m.source_file) for m in members],
        )
