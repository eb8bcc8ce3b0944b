"""The `medlake` command line: thin commands over `medlake.pipeline` and friends."""

from __future__ import annotations

import shutil
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from medlake.errors import MedlakeError

app = typer.Typer(
    name="medlake",
    help="medlake: a healthcare lakehouse. Feeds → bronze → FHIR R4 silver → gold, on one laptop.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")]


class OutFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def _global_options(
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="MEDLAKE_LOG_FORMAT",
                     help="Logs on stderr: text (default) or json (JSON lines with counts and ids; see docs/observability.md)."),
    ] = LogFormat.text,
) -> None:
    if log_format is LogFormat.json:
        from medlake.observability.logs import configure_logging

        configure_logging("json")


def _fail(e: MedlakeError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(e.message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _tenant(project: Any, tenant: str | None) -> str:
    if tenant:
        return tenant
    if len(project.tenants) == 1:
        return str(project.tenants[0].name)
    names = ", ".join(t.name for t in project.tenants) or "none"
    raise typer.BadParameter(f"several tenants ({names}); choose one with --tenant")


def _run(config: Path, tenant: str | None, stages: tuple[str, ...], sources: list[str] | None) -> None:
    from medlake import pipeline
    from medlake.cli.output import RichReporter, summary_tables
    from medlake.config import load_config

    try:
        project = load_config(config)
        with RichReporter(console) as rep:
            summary = pipeline.run(project, _tenant(project, tenant), stages, sources, rep)
    except MedlakeError as e:
        raise _fail(e) from None
    console.print(f"run {summary.run_id} · tenant {summary.tenant} · lake {summary.lake_root}", soft_wrap=True)
    for t in summary_tables(summary):
        console.print(t)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write medlake.yaml into.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing medlake.yaml.")] = False,
) -> None:
    """Write a commented example medlake.yaml.

    Example: medlake init ./acme
    """
    from medlake.templates import EXAMPLE_CONFIG

    target = directory / "medlake.yaml"
    if target.exists() and not force:
        err.print(f"error: {target} exists; use --force to overwrite it", soft_wrap=True, markup=False)
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    console.print(f"wrote {target}", soft_wrap=True, highlight=False)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("synthetic"),
    patients: Annotated[int, typer.Option("--patients", "-n", min=1, help="People in the population.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 42,
) -> None:
    """Generate a synthetic health system: eight source systems plus ground truth.

    Example: medlake synth --patients 1000 --seed 7 --out ./synthetic
    """
    from rich.progress import Progress

    from medlake.synth.generate import generate

    with Progress(console=console, transient=True, disable=not console.is_terminal) as p:
        task = p.add_task("generating people", total=patients)
        summary = generate(out, patients, seed, progress=lambda n: p.update(task, completed=n))
    files = sum(summary.files.values())
    console.print(
        f"wrote {patients:,} people to {out}: {files:,} files from {len(summary.files)} source systems, "
        f"{summary.defect_count:,} injected defects (truth/defects.csv); config: {out / 'medlake.yaml'}",
        soft_wrap=True,
    )


@app.command()
def ingest(config: ConfigOpt = Path("medlake.yaml"), tenant: TenantOpt = None, source: SourceOpt = None) -> None:
    """Land new files from the sources and parse them into bronze.

    Example: medlake ingest --tenant acme --source ehr
    """
    _run(config, tenant, ("land", "bronze"), source)


@app.command()
def build(config: ConfigOpt = Path("medlake.yaml"), tenant: TenantOpt = None, source: SourceOpt = None) -> None:
    """Build silver from bronze, match patients into persons, run the data-quality checks, then the views and gold marts.

    Example: medlake build --tenant acme
    """
    _run(config, tenant, ("silver", "identity", "check", "gold"), source)


@app.command("run")
def run_all(config: ConfigOpt = Path("medlake.yaml"), tenant: TenantOpt = None, source: SourceOpt = None) -> None:
    """Ingest and build: land → bronze → silver → identity → check → gold.

    Example: medlake run -c ./acme/medlake.yaml
    """
    _run(config, tenant, ("land", "bronze", "silver", "identity", "check", "gold"), source)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Folder for the demo sources and lake.")] = Path("medlake-demo"),
    patients: Annotated[int, typer.Option("--patients", "-n", min=1, help="Synthetic people.")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    fresh: Annotated[bool, typer.Option(help="Delete the folder first.")] = False,
) -> None:
    """Generate a synthetic health system and build its whole lake, offline.

    Example: medlake demo --patients 500 --dir ./medlake-demo
    """
    from medlake.cli.demo import print_demo_report
    from medlake.config import load_config
    from medlake.pipeline import run as run_pipeline
    from medlake.synth.generate import generate

    if fresh and directory.exists():
        shutil.rmtree(directory)
    from medlake.cli.output import RichReporter

    t0 = time.perf_counter()
    try:
        with RichReporter(console) as rep:
            rep.start("synth", "synthesize people", patients)
            done = [0]

            def tick(n: int) -> None:
                rep.advance(n - done[0])
                done[0] = n

            generate(directory, patients, seed, progress=tick)
            rep.finish()
            synth_s = time.perf_counter() - t0
            project = load_config(directory / "medlake.yaml")
            summary = run_pipeline(project, project.tenants[0].name, reporter=rep)
    except MedlakeError as e:
        raise _fail(e) from None
    print_demo_report(console, project, summary, synth_s)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (DuckDB dialect).")],
    config: ConfigOpt = Path("medlake.yaml"),
    lake: Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")] = None,
    tenant: TenantOpt = None,
    fmt: Annotated[OutFormat, typer.Option("--format", "-f", help="table, csv or json.")] = OutFormat.table,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Silver and views as the lake held them at this record time (ISO 8601; no zone = UTC); no gold.")] = None,
    valid_at: Annotated[str | None, typer.Option("--valid-at", help="Silver and views as valid at this time (the source's time), as known now or at --as-of.")] = None,
    deidentified: Annotated[bool, typer.Option("--deidentified", help="Only Safe Harbor de-identified views.* and gold.* (no bronze, silver, meta); see docs/phi.md.")] = False,
) -> None:
    """Query the lake: bronze.*, silver.*, views.*, gold.*, meta.* are views.

    Example: medlake sql --lake ./medlake-demo/lake "select count(*) from silver.patient"
    As of a time: medlake sql --as-of 2026-01-01T00:00:00Z "select count(*) from views.patient"
    De-identified: medlake sql --deidentified "select zip3, count(*) from views.patient group by 1"
    """
    import csv
    import io

    from medlake.cli.output import result_table, rows_as_json
    from medlake.lake.catalog import connect

    try:
        tl = _open_tenant_lake(config, lake, tenant)
        if deidentified:
            from medlake.cli.deid import deidentified_connection

            con = deidentified_connection(tl)
        elif as_of or valid_at:
            from medlake.lake.asof import connect_instants

            con = connect_instants(tl, as_of, valid_at)
        else:
            con = connect(tl)
        cur = con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if columns else []
    except MedlakeError as e:
        raise _fail(e) from None
    except Exception as e:  # duckdb errors: show the message, not a traceback
        if type(e).__module__.startswith("duckdb") or type(e).__name__.endswith("Exception"):
            err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        raise
    if fmt is OutFormat.json:
        console.out(rows_as_json(columns, rows), highlight=False)
    elif fmt is OutFormat.csv:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        console.out(buf.getvalue().rstrip("\n"), highlight=False)
    else:
        console.print(result_table(columns, rows))


def _open_tenant_lake(config: Path, lake: Path | None, tenant: str | None) -> Any:
    from medlake.config import load_config
    from medlake.lake.paths import TenantLake
    from medlake.pipeline import open_lake

    if lake is None:
        project = load_config(config)
        return open_lake(project, _tenant(project, tenant))
    root = lake.resolve()
    if tenant is None:
        layers = ("_meta", "bronze", "silver", "gold")
        names = sorted(
            p.name for p in (root.iterdir() if root.exists() else []) if p.is_dir() and any((p / x).exists() for x in layers)
        )
        if len(names) != 1:
            raise typer.BadParameter(f"lake {root} holds tenants {names or 'none'}; choose one with --tenant")
        tenant = names[0]
    return TenantLake.open(str(root), tenant)


@app.command()
def status(config: ConfigOpt = Path("medlake.yaml"), tenant: TenantOpt = None) -> None:
    """Per tenant and source: the last run, row counts per layer, backlog and success rate.

    Example: medlake status -c ./medlake-demo/medlake.yaml
    """
    from medlake.cli.status import print_status
    from medlake.config import load_config

    try:
        project = load_config(config)
        names = [tenant] if tenant else [t.name for t in project.tenants]
        for name in names:
            print_status(console, project, name)
    except MedlakeError as e:
        raise _fail(e) from None


from medlake.cli.listen import listen  # noqa: E402  (the command lives in its own module)

app.command()(listen)

from medlake.cli.ack import ack  # noqa: E402  (the command lives in its own module)

app.command()(ack)

from medlake.cli.inspect import inspect  # noqa: E402  (the command lives in its own module)

app.command()(inspect)

from medlake.cli.history import history  # noqa: E402  (the command lives in its own module)

app.command()(history)

from medlake.cli.identity import identity_app  # noqa: E402  (the command group lives in its own module)

app.add_typer(identity_app, name="identity")

from medlake.cli.deid import deid, phi_app  # noqa: E402  (the commands live in their own module)

app.command()(deid)
app.add_typer(phi_app, name="phi")

from medlake.cli.match import match  # noqa: E402  (the command lives in its own module)

app.command()(match)

from medlake.cli.views import views_app  # noqa: E402  (the command group lives in its own module)

app.add_typer(views_app, name="views")

from medlake.cli.audit import audit_app  # noqa: E402  (the command group lives in its own module)

app.add_typer(audit_app, name="audit")

from medlake.cli.ml import ml_app  # noqa: E402  (the command group lives in its own module)

app.add_typer(ml_app, name="ml")

from medlake.cli.serve import serve  # noqa: E402  (the command lives in its own module)

app.command()(serve)

from medlake.cli.check import check  # noqa: E402  (the command lives in its own module)

app.command()(check)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
