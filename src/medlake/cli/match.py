"""`medlake match`: the person matcher on any CSV of person records."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from medlake.errors import ConfigError, MedlakeError

_console = Console()
_err = Console(stderr=True)


def match(
    input_csv: Annotated[Path, typer.Argument(help="CSV of person records, with a header line.", metavar="INPUT.csv")],
    output_csv: Annotated[Path, typer.Argument(help="Where to write record_id,cluster_id.", metavar="OUTPUT.csv")],
    id_column: Annotated[str, typer.Option("--id-column", help="The column that identifies each record (unique).")],
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="ROLE=COLUMN, repeatable. Roles: given_name, family_name, birth_date, sex, address_line, "
        "city, state, postal_code, phone, email, ssn, mrn, source.")] = None,
    explain: Annotated[Path | None, typer.Option(
        "--explain", help="Also write the scored pairs (probability, rule, decision, evidence) to this CSV.")] = None,
    link_probability: Annotated[float, typer.Option(help="Pairs at or above are linked.")] = 0.95,
    review_probability: Annotated[float, typer.Option(help="Pairs from here up to the link probability go to review.")] = 0.5,
) -> None:
    """Find the records that are the same person and write record_id,cluster_id.

    Example: medlake match people.csv clusters.csv --id-column PatID --map given_name=First
    --map family_name=Last --map birth_date=DOB --map postal_code=Zip --explain pairs.csv
    """
    from medlake.silver.identity.matcher import MatchSettings
    from medlake.silver.identity.matcher import match as run_match

    try:
        roles = parse_mapping(mapping or [])
        records = read_records(input_csv, id_column, roles)
        settings = MatchSettings(link_probability=link_probability, review_probability=review_probability)
        with _err.status("matching", spinner="dots") as status:
            result = run_match(records, settings, progress=lambda msg: status.update(f"{msg} ({records.num_rows:,} records)"))
    except MedlakeError as e:
        _err.print(f"error: {e.message}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    _write_csv(result.clusters, output_csv)
    if explain is not None:
        _write_csv(result.pairs, explain)
    s = result.stats
    _console.print(
        f"{s['records']:,} records → {s['clusters']:,} clusters ({s['links']:,} links, {s['reviews']:,} for review) "
        f"in {s['seconds']:.1f} s; wrote {output_csv}" + (f" and {explain}" if explain else ""),
        markup=False, highlight=False, soft_wrap=True,
    )


def parse_mapping(items: list[str]) -> dict[str, str]:
    """`["given_name=First", …]` → {"given_name": "First", …}, with errors that say how to fix."""
    from medlake.silver.identity.matcher import ROLES

    roles: dict[str, str] = {}
    for item in items:
        role, sep, column = item.partition("=")
        role, column = role.strip(), column.strip()
        if not sep or not role or not column:
            raise ConfigError(f"--map expects ROLE=COLUMN, got `{item}`")
        if role not in ROLES:
            close = difflib.get_close_matches(role, ROLES, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise ConfigError(f"unknown role `{role}` in --map {item}{hint}; allowed roles: {', '.join(ROLES)}")
        if role in roles:
            raise ConfigError(f"role `{role}` is mapped twice (to `{roles[role]}` and `{column}`); map it once")
        roles[role] = column
    return roles


def read_records(path: Path, id_column: str, roles: dict[str, str]) -> Any:
    """The CSV as an Arrow table of `record_id` + role columns (all text, blanks as null)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.exists():
        raise ConfigError(f"input file {path} does not exist")
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), None)
    if not header:
        raise ConfigError(f"{path} is empty; expected a header line and one record per line")
    for role, column in (("--id-column", id_column), *roles.items()):
        if column not in header:
            what = "--id-column" if role == "--id-column" else f"role `{role}`"
            raise ConfigError(f"column `{column}` (for {what}) is not in {path}; its columns are: {', '.join(header)}")
    wanted = [id_column, *roles.values()]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(dict.fromkeys(wanted)), column_types=dict.fromkeys(wanted, pa.string()),
            strings_can_be_null=True,
        ),
    )
    if table.num_rows == 0:
        raise ConfigError(f"{path} has a header but no records")
    ids = table.column(id_column)
    _check_ids(ids, id_column, path)
    columns = {"record_id": ids, **{role: table.column(column) for role, column in roles.items()}}
    return pa.table(columns)


def _check_ids(ids: Any, id_column: str, path: Path) -> None:
    import pyarrow.compute as pc

    if ids.null_count:
        raise ConfigError(f"column `{id_column}` is blank in {ids.null_count} record(s) of {path}; every record needs an id")
    counts = pc.value_counts(ids)
    dup = [v["values"] for v in counts.to_pylist() if v["counts"] > 1]
    if dup:
        raise ConfigError(
            f"column `{id_column}` has {len(dup)} duplicate value(s) in {path} (first: `{dup[0]}`); "
            "the id column must identify each record once"
        )


def _write_csv(table: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(table.column_names)
        for batch in table.to_batches(65536):
            w.writerows(zip(*(c.to_pylist() for c in batch.columns), strict=True))
