"""`medlake deid` and `medlake phi catalogue` (registered in cli/main.py), and the session
behind `medlake sql --deidentified`.

`deid` prints one line of counts and column names (never a value); columns the PHI
catalogue does not classify are dropped and named on stderr.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

phi_app = typer.Typer(
    help="The PHI catalogue: which FHIR elements and columns carry which Safe Harbor category.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")]
LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Day ages are computed on, YYYY-MM-DD (default: today, UTC).")
]


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"`{text}` is not a date; write YYYY-MM-DD", param_hint="--as-of") from None


def deid(
    table: Annotated[str, typer.Argument(help="The table: views.<view> or gold.<mart>.")],
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Output file: .parquet or .csv.")],
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write a Safe Harbor de-identified copy of a view or gold table (Parquet or CSV).

    Names, street, city, contact details and identifiers are removed; join ids become
    per-tenant keyed pseudonyms; dates become years; ages over 89 become 90; ZIP codes keep 3
    digits (000 for the restricted areas). See docs/phi.md.

    Example: medlake deid gold.patient_360 --out research/patient_360.parquet -c medlake.yaml
    """
    from medlake.cli.main import _fail, _open_tenant_lake
    from medlake.errors import MedlakeError
    from medlake.silver.phi.output import export

    try:
        done = export(_open_tenant_lake(config, lake, tenant), table, out, as_of=_as_of(as_of))
    except MedlakeError as e:
        raise _fail(e) from None
    if done.unknown:
        typer.echo(f"warning: dropped columns the PHI catalogue does not classify: {', '.join(done.unknown)}", err=True)
    removed = f"; removed {', '.join(done.removed)}" if done.removed else ""
    typer.echo(f"wrote {done.rows} rows of {table}, {len(done.columns)} columns, to {out}{removed}")


def deidentified_connection(tenant_lake: Any) -> Any:
    """The DuckDB connection of `medlake sql --deidentified` (warnings go to stderr)."""
    from medlake.silver.phi.output import deidentified_session

    session = deidentified_session(tenant_lake)
    for table, cols in session.unknown.items():
        typer.echo(f"warning: {table}: dropped unclassified columns {', '.join(cols)}", err=True)
    return session.con


class CatalogueFormat(StrEnum):
    csv = "csv"
    json = "json"


FIELDS = ("kind", "scope", "name", "category", "treatment", "note")


def catalogue_rows() -> list[dict[str, str]]:
    """The catalogue as rows: FHIR elements, then column rules (`scope` `*`: every table)."""
    from medlake.silver.phi.catalogue import COLUMNS, ELEMENTS, TABLE_COLUMNS

    rows = [
        {"kind": "element", "scope": e.resource_type, "name": e.describe(), "category": e.category, "treatment": "", "note": ""}
        for e in ELEMENTS
    ]
    rules = [("*", COLUMNS), *sorted(TABLE_COLUMNS.items())]
    for scope, table in rules:
        for name, r in sorted(table.items()):
            rows.append(
                {"kind": "column", "scope": scope, "name": name, "category": r.category or "not_phi",
                 "treatment": r.treatment.value, "note": r.note}
            )
    return rows


@phi_app.command("catalogue")
def catalogue(
    fmt: Annotated[CatalogueFormat, typer.Option("--format", "-f", help="csv or json.")] = CatalogueFormat.csv,
) -> None:
    """Print the PHI catalogue: FHIR elements and view/gold column rules with their category.

    Example: medlake phi catalogue --format json
    """
    rows = catalogue_rows()
    if fmt is CatalogueFormat.json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    typer.echo(buf.getvalue(), nl=False)
