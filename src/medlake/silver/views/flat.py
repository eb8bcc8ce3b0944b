"""The shipped flat views: silver FHIR resources → typed, snake_case tables.

Each view is one SQL file in `sql/<view>.sql`: a `SELECT` over `silver.<type>` (or, for the
views of every version — `claim_version`, `eob_version`, `eob_adjustment`,
`claim_response_version` — over `silver.<type>_history`) with DuckDB's JSON functions, its
grain and columns documented in a header comment. They are an interim for
SQL-on-FHIR ViewDefinitions (the column names follow what a ViewDefinition would produce).

Use:

    install_macros(con)          # the helper macros the view SQL calls (TEMP, per session)
    ensure_silver_tables(con)    # an empty `silver.<t>` for every type that has no table yet
    table = materialize(con, "patient")
    counts = write_views(con, "<tenant_root>/silver/views")   # Delta table per view

or just `materialize`/`write_views`, which do the first two steps themselves.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from medlake.errors import ConfigError
from medlake.silver.schema import CURRENT_SCHEMA, HISTORY_SCHEMA, table_name

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

VIEWS: tuple[str, ...] = (
    "patient",
    "encounter",
    "condition",
    "observation",
    "medication_request",
    "medication_dispense",
    "procedure",
    "immunization",
    "allergy_intolerance",
    "coverage",
    "practitioner",
    "organization",
    "claim",
    "claim_line",
    "claim_version",
    "explanation_of_benefit",
    "eob_version",
    "eob_adjustment",
    "payment",
    "claim_response_version",
    "person",
    "person_xref",
)
"""Names of the shipped flat views, in dependency-free order."""

_RESOURCE_TYPES: dict[str, str] = {
    "patient": "Patient",
    "encounter": "Encounter",
    "condition": "Condition",
    "observation": "Observation",
    "medication_request": "MedicationRequest",
    "medication_dispense": "MedicationDispense",
    "procedure": "Procedure",
    "immunization": "Immunization",
    "allergy_intolerance": "AllergyIntolerance",
    "coverage": "Coverage",
    "practitioner": "Practitioner",
    "organization": "Organization",
    "claim": "Claim",
    "claim_line": "Claim",
    "claim_version": "Claim",
    "explanation_of_benefit": "ExplanationOfBenefit",
    "eob_version": "ExplanationOfBenefit",
    "eob_adjustment": "ExplanationOfBenefit",
    "payment": "PaymentReconciliation",
    "claim_response_version": "ClaimResponse",
    "person": "Person",
    "person_xref": "Patient",
}

_ALSO_READS: dict[str, tuple[str, ...]] = {"person": ("patient",), "person_xref": ("person",)}
"""Further `silver.<table>`s a view joins (the identity views read Patients and Persons)."""

_HISTORY_VIEWS: frozenset[str] = frozenset(
    {"claim_version", "eob_version", "eob_adjustment", "claim_response_version"}
)
"""Views that read every version (`silver.<type>_history`) instead of the current table."""

_DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
}


def _read_sql(file_name: str) -> str:
    return resources.files("medlake.silver.views").joinpath("sql", file_name).read_text("utf-8")


def _check_name(name: str) -> None:
    if name not in VIEWS:
        import difflib

        close = difflib.get_close_matches(name, VIEWS, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise ConfigError(
            f"`{name}` is not a flat view; the views are: {', '.join(VIEWS)}.{hint}", view=name
        )


def view_sql(name: str) -> str:
    """The SQL `SELECT` of view `name` (needs the macros of `install_macros`)."""
    _check_name(name)
    return _read_sql(f"{name}.sql")


def required_tables(name: str) -> list[str]:
    """The `silver.<table>` names view `name` reads (e.g. `["medication_request"]`, or
    `["claim_history"]` for a view over every version)."""
    _check_name(name)
    suffix = "_history" if name in _HISTORY_VIEWS else ""
    return [table_name(_RESOURCE_TYPES[name]) + suffix, *_ALSO_READS.get(name, ())]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the TEMP helper macros the view SQL uses, in this session."""
    con.execute(_read_sql("_macros.sql"))


def _empty_silver_sql(table: str) -> str:
    schema = HISTORY_SCHEMA if table.endswith("_history") else CURRENT_SCHEMA
    cols = ", ".join(
        f"CAST(NULL AS {_DUCKDB_TYPES[str(field.type)]}) AS {field.name}" for field in schema
    )
    return f"CREATE VIEW silver.{table} AS SELECT {cols} WHERE false"


def _has_relation(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    import duckdb

    try:
        con.execute(f"SELECT * FROM {relation} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def ensure_silver_tables(
    con: duckdb.DuckDBPyConnection, names: tuple[str, ...] | list[str] = VIEWS
) -> list[str]:
    """Create an empty `silver.<t>` (silver schema, no rows) for every table the views `names`
    need that the session does not have yet, so a view over a type with no data still runs.

    Returns the tables that were created.
    """
    created: list[str] = []
    for name in names:
        for table in required_tables(name):
            if _has_relation(con, f"silver.{table}"):
                continue
            con.execute("CREATE SCHEMA IF NOT EXISTS silver")
            con.execute(_empty_silver_sql(table))
            created.append(table)
    if created:
        log.debug("created empty silver tables: %s", ", ".join(created))
    return created


def _utc(table: pa.Table) -> pa.Table:
    """Label every TIMESTAMPTZ column UTC (DuckDB labels them with the session time zone;
    the instants are the same)."""
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit, tz="UTC"), f.nullable)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def materialize(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    """Run view `name` over the session's `silver.*` and return it as an Arrow table."""
    sql = view_sql(name)
    install_macros(con)
    ensure_silver_tables(con, [name])
    relation = con.sql(sql)
    # duckdb 2 names it to_arrow_table (fetch_arrow_table is deprecated); 1.x lacks it
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    table: pa.Table = fetch()
    return _utc(table)


def write_views(
    con: duckdb.DuckDBPyConnection,
    views_root: str | Path,
    names: tuple[str, ...] | list[str] = VIEWS,
) -> dict[str, int]:
    """Materialize views `names` and overwrite the Delta table `<views_root>/<view>/` of each
    (written even when empty, so gold can always read it). Returns rows per view."""
    from deltalake import write_deltalake

    counts: dict[str, int] = {}
    for name in names:
        table = materialize(con, name)
        write_deltalake(
            f"{str(views_root).rstrip('/')}/{name}",
            table,
            mode="overwrite",
            schema_mode="overwrite",
        )
        counts[name] = table.num_rows
    log.info("wrote %d flat views (%d rows)", len(counts), sum(counts.values()))
    return counts
