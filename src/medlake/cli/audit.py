"""`medlake audit …`: check and read a tenant's hash-chained audit log (see docs/security.md).

    medlake audit verify     walk the chain; exit 1 and name the first bad entry when broken
    medlake audit show       the newest entries, one per line

Registered in cli/main.py. Plain text, one entry per line, so it can be grepped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from medlake.errors import MedlakeError

audit_app = typer.Typer(
    help="The tenant's audit log of PHI access: verify its hash chain, show entries.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")]
LakeOpt = Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")]

_SHOW = ("seq", "at", "who", "client", "action", "resource_type", "count")


def _lake(config: Path, lake: Path | None, tenant: str | None) -> Any:
    from medlake.cli.main import _open_tenant_lake

    return _open_tenant_lake(config, lake, tenant)


def _out(line: str) -> None:
    from medlake.cli.main import console

    console.out(line, highlight=False)


@audit_app.command("verify")
def verify_cmd(
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
    anchor: Annotated[str | None, typer.Option("--anchor", metavar="SEQ:HASH", help="A seq and hash printed by an earlier verify and kept outside the lake; the chain must still hold it.")] = None,
) -> None:
    """Walk the audit chain: every entry's hash, its link to the previous one, and head.json.
    Exit code 1 when the chain is broken, naming the first bad entry.

    Example: medlake audit verify -c ./medlake-demo/medlake.yaml --tenant acme
    With an anchor kept elsewhere: medlake audit verify --anchor 1204:5c1e…
    """
    from medlake.cli.main import _fail
    from medlake.lake.audit import verify

    try:
        tl = _lake(config, lake, tenant)
        result = verify(tl, _anchor(anchor) if anchor else None)
    except MedlakeError as e:
        raise _fail(e) from None
    files = _count(result.files, "file", "files")
    if result.broken is None:
        tail = f"; last seq {result.last_seq}, hash {result.last_hash}" if result.entries else ""
        _out(f"audit log of tenant {tl.tenant}: {_count(result.entries, 'entry', 'entries')} in {files}, chain intact{tail}")
        return
    good = _count(result.entries, "good entry", "good entries")
    _out(f"audit log of tenant {tl.tenant}: BROKEN after {good} in {files}")
    _out(f"first bad entry: {result.broken.describe()}")
    raise typer.Exit(1)


@audit_app.command("show")
def show_cmd(
    config: ConfigOpt = Path("medlake.yaml"),
    lake: LakeOpt = None,
    tenant: TenantOpt = None,
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many of the newest entries.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Whole entries (hashes included), one JSON object per line.")] = False,
) -> None:
    """Show the newest audit entries, oldest first (not verified: run `medlake audit verify`).

    Example: medlake audit show -c ./medlake-demo/medlake.yaml --last 5
    """
    from medlake.cli.main import _fail
    from medlake.lake.audit import AuditLog

    try:
        entries = AuditLog(_lake(config, lake, tenant)).last(last)
    except MedlakeError as e:
        raise _fail(e) from None
    if as_json:
        for entry in entries:
            _out(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode())
        return
    rows = [[_cell(e.get(c)) for c in _SHOW] for e in entries]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(_SHOW)]
    for cells in [list(_SHOW), *rows] if rows else []:
        _out("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    if not rows:
        _out("no audit entries")


def _anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise typer.BadParameter(f"`{text[:80]}` is not SEQ:HASH (a number, a colon, 64 hex digits)", param_hint="--anchor")
    return int(seq), digest


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)
