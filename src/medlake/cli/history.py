"""`medlake history RESOURCE_TYPE/ID`: every version of one silver resource (registered in cli/main.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from medlake.errors import MedlakeError
from medlake.silver.history import Version, current_at, iso, resource_history, valid_at

_COLUMNS = ("version", "recorded from", "recorded to", "valid from", "valid to", "reason", "source", "object#record", "hash", "changed")


def history(
    reference: Annotated[str, typer.Argument(metavar="RESOURCE_TYPE/ID", help="e.g. Patient/<id> (or the source's own id).")],
    config: Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")] = Path("medlake.yaml"),
    lake: Annotated[Path | None, typer.Option("--lake", help="Lake folder (instead of --config).")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full versions (resources included) as JSON.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only the version current at this record time (ISO 8601; no zone = UTC).")] = None,
    valid_at_: Annotated[str | None, typer.Option("--valid-at", help="Only the version valid at this time, as known now (or at --as-of).")] = None,
) -> None:
    """Show every version of one silver resource: record time (when the lake held it as
    current), valid time (when the source says it became true), reason, bronze lineage,
    content hash and the top-level elements each version changed. Exit code 1 when --as-of /
    --valid-at finds no version.

    Example: medlake history -c ./medlake-demo/medlake.yaml Patient/0b6f4c2e-… --as-of 2026-01-01T00:00:00Z
    """
    from medlake.cli.main import _fail, _open_tenant_lake, console
    from medlake.lake.asof import parse_instant

    try:
        tl = _open_tenant_lake(config, lake, tenant)
        versions = resource_history(tl, reference)
        recorded = parse_instant(as_of, "--as-of") if as_of else None
        valid = parse_instant(valid_at_, "--valid-at") if valid_at_ else None
    except MedlakeError as e:
        raise _fail(e) from None
    shown = _select(versions, recorded, valid)
    if as_json:
        console.out(orjson.dumps([v.as_json() for v in shown], option=orjson.OPT_INDENT_2).decode(), highlight=False)
    else:
        console.out(_text(reference, versions, shown, recorded, valid), highlight=False)
    if not shown:
        raise typer.Exit(1)


def _select(versions: list[Version], recorded: datetime | None, valid: datetime | None) -> list[Version]:
    if valid is not None:
        found = valid_at(versions, valid, recorded)
    elif recorded is not None:
        found = current_at(versions, recorded)
    else:
        return versions
    return [found] if found else []


def _text(reference: str, versions: list[Version], shown: list[Version], recorded: datetime | None, valid: datetime | None) -> str:
    current = next((v.version for v in versions if v.is_current), None)
    head = f"{reference}: {len(versions)} version{'s' * (len(versions) != 1)}, current {current if current else 'none'}"
    when = [f"recorded as of {iso(recorded)}" if recorded else "", f"valid at {iso(valid)}" if valid else ""]
    if any(when):
        head += f"; {', '.join(w for w in when if w)}: " + (f"version {shown[0].version}" if shown else "no version")
    rows = [[_cell(c, v) for c in _COLUMNS] for v in shown]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(_COLUMNS)]
    lines = [head, ""] if rows else [head]
    for cells in ([list(_COLUMNS)] if rows else []) + rows:
        lines.append("  ".join(c.rjust(w) if i == 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip())
    return "\n".join(lines)


def _cell(column: str, v: Version) -> str:
    values = {
        "version": str(v.version),
        "recorded from": iso(v.recorded_from) or "",
        "recorded to": iso(v.recorded_to) or "-",
        "valid from": iso(v.valid_from) or "-",
        "valid to": iso(v.valid_to) or "-",
        "reason": v.reason,
        "source": v.source or "",
        "object#record": f"{v.object_name}#{v.record_index}",
        "hash": v.content_hash[:12],
        "changed": ", ".join(v.changed) or "-",
    }
    return values[column]
