"""`medlake identity …`: look into the master patient index and decide its hard cases.

    medlake identity show ID            a person (or the person of a patient): records and links
    medlake identity review             the open review list
    medlake identity link A B --reason  the two patients are one person (from the next build on)
    medlake identity unlink A B --reason  they are never the same person

Registered in cli/main.py. The output is plain text (one fact per line) so it can be grepped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

identity_app = typer.Typer(
    help="The master patient index: show a person, the review list, manual link/unlink.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")]
LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in identity.overrides).")]


def _lake(config: Path, lake: Path | None, tenant: str | None) -> Any:
    from medlake.cli.main import _open_tenant_lake

    return _open_tenant_lake(config, lake, tenant)


def _out(line: str) -> None:
    from medlake.cli.main import console

    console.out(line, highlight=False)


def _fmt_p(p: float | None) -> str:
    return "-" if p is None else f"{p:.4f}"


def _evidence(text: str | None) -> str:
    """The matcher's evidence JSON as `field=value` pairs on one line."""
    if not text:
        return ""
    try:
        ev = json.loads(text)
    except ValueError:
        return text
    if isinstance(ev, dict):
        return "; ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in ev.items())
    return json.dumps(ev, separators=(",", ":"))


@identity_app.command("show")
def show(
    id_: Annotated[str, typer.Argument(metavar="ID", help="An enterprise person id or a silver Patient id.")],
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Show one person: its source records, and every scored link between them with the
    evidence (which fields agreed, their weights, the probability).

    Example: medlake identity show 3f2c9a4e-… -c ./medlake-demo/medlake.yaml
    """
    from medlake.cli.main import _fail
    from medlake.errors import MedlakeError
    from medlake.silver.identity.inspect import person_report

    try:
        lines = person_report(_lake(config, lake, tenant), id_)
    except MedlakeError as e:
        raise _fail(e) from None
    for line in lines:
        _out(line)


@identity_app.command("review")
def review(
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Also pairs already decided.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many pairs.")] = 50,
) -> None:
    """List the pairs in the review band (most probable first), with their evidence.

    Example: medlake identity review -c ./medlake-demo/medlake.yaml --limit 20
    """
    from medlake.silver.identity.review import read_review

    t = read_review(_lake(config, lake, tenant))
    rows = [r for r in t.to_pylist() if all_ or r["status"] == "open"]
    rows.sort(key=lambda r: (-(r["probability"] or 0.0), r["record_id_l"], r["record_id_r"]))
    _out(f"{len(rows)} pair(s) {'in the review list' if all_ else 'open for review'}")
    for r in rows[:limit]:
        _out(f"{r['record_id_l']} {r['record_id_r']} p={_fmt_p(r['probability'])} {r['status']} {r['rule'] or ''}".rstrip())
        if r["evidence"]:
            _out(f"  {_evidence(r['evidence'])}")


def _decide(action: str, a: str, b: str, reason: str, config: Path, lake: Path | None, tenant: str | None) -> None:
    from medlake.cli.main import _fail
    from medlake.errors import MedlakeError
    from medlake.silver.identity.inspect import record_override

    try:
        record_override(_lake(config, lake, tenant), a, b, action, reason)
    except MedlakeError as e:
        raise _fail(e) from None
    verb = "linked" if action == "link" else "unlinked"
    _out(f"{verb} {a} and {b}; the next `medlake build` (identity stage) applies it")


@identity_app.command("link")
def link(
    a: Annotated[str, typer.Argument(help="A silver Patient id.")],
    b: Annotated[str, typer.Argument(help="Another silver Patient id.")],
    reason: ReasonOpt,
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Declare two patients the same person (a must-link every later run honours).

    Example: medlake identity link 1b9e… 7c0d… --reason "same person, confirmed by phone"
    """
    _decide("link", a, b, reason, config, lake, tenant)


@identity_app.command("unlink")
def unlink(
    a: Annotated[str, typer.Argument(help="A silver Patient id.")],
    b: Annotated[str, typer.Argument(help="Another silver Patient id.")],
    reason: ReasonOpt,
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Declare two patients different persons (a cannot-link every later run honours).

    Example: medlake identity unlink 1b9e… 7c0d… --reason "twins: different first names"
    """
    _decide("unlink", a, b, reason, config, lake, tenant)
