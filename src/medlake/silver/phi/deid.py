"""Safe Harbor de-identification of any view or gold table, as one DuckDB `SELECT`.

Each column is treated by its catalogue rule (`catalogue.classify`):

- names, street, city, phone, fax, e-mail, SSN, MRN, member and account numbers, device
  serials, URLs, IPs and free text are removed (the column is left out);
- identifiers that tables join on (`patient_id`, `person_id`, `encounter_id`, `claim_id`, …)
  become pseudonyms: HMAC-SHA-256 of the value under a per-tenant secret key, 32 hex
  characters. The same value gives the same pseudonym in every table, so joins still work;
  without the key nobody can compute or reverse one (see docs/phi.md for why this is a
  re-identification code Safe Harbor allows);
- dates and instants become their year (of the UTC instant), renamed `<name>_year`
  (`birth_date` → `birth_year`, `onset_at` → `onset_year`, `created` → `created_year`);
- ages over 89 become 90, and the birth year of anyone aged 90 or more becomes the one year
  `as_of.year - 90` (meaning "that year or earlier");
- ZIP codes keep their first 3 digits (`zip3`), or `000` for the 3-digit areas of 20,000
  people or fewer (`RESTRICTED_ZIP3`); anything that is not a US ZIP becomes NULL;
- columns the catalogue does not know are dropped, with a warning naming them.

The key reaches DuckDB as two session variables (the HMAC inner and outer pads), never as
text inside the SQL, so the SQL can be shown or logged.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from medlake.errors import ConfigError
from medlake.silver.phi.catalogue import ColumnRule, Treatment, classify

RESTRICTED_ZIP3: frozenset[str] = frozenset(
    {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"}
)
"""The 17 three-digit ZIP areas with 20,000 people or fewer (2000 Census, as listed in HHS's
de-identification guidance): Safe Harbor replaces them by `000`."""

PSEUDONYM_CHARS = 32
"""Hex characters kept of the HMAC (128 bits)."""

_KEY_IN = "medlake_phi_key_inner"
_KEY_OUT = "medlake_phi_key_outer"
_TABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


class UnclassifiedColumnsWarning(UserWarning):
    """A table had columns the PHI catalogue does not classify; they were dropped."""


@dataclass(frozen=True)
class OutputColumn:
    name: str  # in the de-identified table
    source: str  # in the input table
    rule: ColumnRule


@dataclass
class Deidentified:
    """The de-identifying `SELECT` of one table and what it did to each column."""

    table: str
    sql: str
    columns: list[OutputColumn] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # classified PHI, left out
    unknown: list[str] = field(default_factory=list)  # unclassified, left out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _year_name(column: str) -> str:
    for suffix in ("_at", "_date"):
        if column.endswith(suffix) and len(column) > len(suffix):
            return column[: -len(suffix)] + "_year"
    return column + "_year"


def _as_date(col: str, dtype: str) -> str:
    """SQL for the DATE of `col` (instants taken in UTC)."""
    if dtype == "DATE":
        return col
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"CAST(timezone('UTC', {col}) AS DATE)"
    if dtype.startswith("TIMESTAMP"):
        return f"CAST({col} AS DATE)"
    return f"TRY_CAST(left(CAST({col} AS VARCHAR), 10) AS DATE)"


def _year(col: str, dtype: str) -> str:
    if dtype == "DATE" or dtype.startswith("TIMESTAMP"):
        return f"CAST(year({_as_date(col, dtype)}) AS INTEGER)"
    # text dates: the leading 4-digit year, as FHIR writes partial dates (`2023`, `2023-05`)
    return f"CASE WHEN regexp_matches(CAST({col} AS VARCHAR), '^[0-9]{{4}}') THEN CAST(left(CAST({col} AS VARCHAR), 4) AS INTEGER) END"


def _age_years(birth: str, as_of: date) -> str:
    ref = f"DATE '{as_of.isoformat()}'"
    return f"(date_diff('year', {birth}, {ref}) - CAST(strftime({ref}, '%m-%d') < strftime({birth}, '%m-%d') AS INTEGER))"


def _birth_year(col: str, dtype: str, as_of: date) -> str:
    if dtype != "DATE" and not dtype.startswith("TIMESTAMP"):
        return _capped_text_year(col, dtype, as_of)
    birth = _as_date(col, dtype)
    return f"CASE WHEN {_age_years(birth, as_of)} >= 90 THEN {as_of.year - 90} ELSE CAST(year({birth}) AS INTEGER) END"


def _capped_text_year(col: str, dtype: str, as_of: date) -> str:
    """A text birth date (`1930`, `1930-04`, `1930-04-02`): the year when the age is below 90
    for every day of that year, else the aggregated year."""
    y = _year(col, dtype)
    return f"CASE WHEN {y} IS NULL THEN NULL WHEN {y} <= {as_of.year - 90} THEN {as_of.year - 90} ELSE {y} END"


def _zip3(col: str) -> str:
    restricted = ", ".join(f"'{z}'" for z in sorted(RESTRICTED_ZIP3))
    text = f"trim(CAST({col} AS VARCHAR))"
    return (
        f"CASE WHEN NOT regexp_matches({text}, '^[0-9]{{5}}(-?[0-9]{{4}})?$') THEN NULL "
        f"WHEN left({text}, 3) IN ({restricted}) THEN '000' ELSE left({text}, 3) END"
    )


def _pseudonym(col: str) -> str:
    inner = f"unhex(sha256(unhex(getvariable('{_KEY_IN}')) || encode(CAST({col} AS VARCHAR))))"
    return f"left(sha256(unhex(getvariable('{_KEY_OUT}')) || {inner}), {PSEUDONYM_CHARS})"


def _age(col: str) -> str:
    return f"CASE WHEN {col} > 89 THEN 90 ELSE {col} END"


def _expression(rule: ColumnRule, column: str, dtype: str, as_of: date) -> tuple[str, str] | None:
    """(SQL expression, output name) of one column, or None when it is removed."""
    col = _q(column)
    t = rule.treatment
    if t is Treatment.KEEP:
        return col, column
    if t is Treatment.PSEUDONYM:
        if dtype.endswith("[]"):  # a list of ids: each one
            return f"list_transform({col}, lambda v: {_pseudonym('v')})", column
        return _pseudonym(col), column
    if t is Treatment.YEAR:
        return _year(col, dtype), _year_name(column)
    if t is Treatment.BIRTH_YEAR:
        return _birth_year(col, dtype, as_of), _year_name(column)
    if t is Treatment.AGE:
        return _age(col), column
    if t is Treatment.ZIP3:
        return _zip3(col), "zip3" if column == "postal_code" else f"{column}_zip3"
    return None


def set_key(con: Any, key: bytes) -> None:
    """Give the session the pseudonym key as HMAC pads (session variables, not SQL text)."""
    if len(key) < 16:
        raise ConfigError(f"the pseudonym key has {len(key)} bytes; it needs at least 16 (32 recommended)")
    if len(key) > 64:  # HMAC: keys longer than the block are hashed first
        key = hashlib.sha256(key).digest()
    block = key.ljust(64, b"\0")
    con.execute(f"SET VARIABLE {_KEY_IN} = ?", [bytes(b ^ 0x36 for b in block).hex()])
    con.execute(f"SET VARIABLE {_KEY_OUT} = ?", [bytes(b ^ 0x5C for b in block).hex()])


def _columns(con: Any, table: str) -> list[tuple[str, str]]:
    m = _TABLE.match(table)
    if not m:
        raise ConfigError(
            f"`{table}` is not a table name; give `<schema>.<table>`, e.g. `views.patient` or `gold.patient_360`",
            table=table,
        )
    schema, name = m.groups()
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        known = con.execute(
            "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('views', 'gold') ORDER BY 1"
        ).fetchall()
        import difflib

        close = difflib.get_close_matches(table, [k[0] for k in known], n=1)
        hint = f" Did you mean `{close[0]}`?" if close else " Build the lake first (`medlake build`)."
        raise ConfigError(f"`{table}` is not a table of this lake.{hint}", table=table)
    seen: dict[str, str] = {}
    for c, t in rows:  # a table exposed in two catalogs lists its columns twice
        seen.setdefault(c, t)
    return list(seen.items())


def deidentify(
    con: Any,
    table: str,
    *,
    key: bytes,
    as_of: date | None = None,
    unknown: Literal["drop", "raise"] = "drop",
) -> Deidentified:
    """The Safe Harbor `SELECT` of `table` (`views.patient`, `gold.patient_360`) on `con`.

    Sets the pseudonym key on `con` (`set_key`); run the returned `.sql` on the same
    connection. `as_of` is the day ages are computed on (default: today, UTC). Unclassified
    columns are dropped with a warning, or raise a `ConfigError` with `unknown="raise"`.
    """
    ref = as_of or datetime.now(UTC).date()
    set_key(con, key)
    out = Deidentified(table, "")
    selects: list[str] = []
    for column, dtype in _columns(con, table):
        rule = classify(table, column)
        if rule is None:
            out.unknown.append(column)
            continue
        expr = _expression(rule, column, dtype, ref)
        if expr is None:
            out.removed.append(column)
            continue
        sql, name = expr
        out.columns.append(OutputColumn(name, column, rule))
        selects.append(sql if sql == _q(name) else f"{sql} AS {_q(name)}")
    _check_names(table, out.columns)
    if out.unknown:
        if unknown == "raise":
            raise ConfigError(
                f"`{table}` has columns the PHI catalogue does not classify: {', '.join(out.unknown)}; "
                "add them to medlake/silver/phi/catalogue.py (PHI or not PHI)",
                table=table,
            )
        warnings.warn(
            f"de-identifying {table}: dropped columns the PHI catalogue does not classify: {', '.join(out.unknown)}",
            UnclassifiedColumnsWarning,
            stacklevel=2,
        )
    if not selects:
        raise ConfigError(f"`{table}` has no column left after de-identification", table=table)
    schema, name = table.split(".")
    out.sql = f"SELECT {', '.join(selects)} FROM {_q(schema)}.{_q(name)}"
    return out


def _check_names(table: str, columns: list[OutputColumn]) -> None:
    names = [c.name for c in columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"de-identifying `{table}` would give two columns named {', '.join(twice)}; rename one in the table",
            table=table,
        )
