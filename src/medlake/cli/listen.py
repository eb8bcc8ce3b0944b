"""`medlake listen`: run the MLLP listener of one HL7 v2 source (registered in cli/main.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

_MIB = 1024 * 1024


def listen(
    source: Annotated[str, typer.Option("--source", "-s", help="The tenant's `hl7v2` source to receive for.")],
    config: Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")] = Path("medlake.yaml"),
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")] = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port (0: any free port).")] = 2575,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    batch_seconds: Annotated[float, typer.Option(min=0.05, help="Seconds between micro-batches (land → bronze → silver).")] = 2.0,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate (chain): serve MLLP over TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert (unencrypted).")] = None,
    max_frame_bytes: Annotated[int, typer.Option(min=1024, help="Larger messages are rejected (AR).")] = 16 * _MIB,
    processing_id: Annotated[str | None, typer.Option(help="Reject messages whose MSH-11 differs (e.g. P).")] = None,
    wal_dir: Annotated[Path | None, typer.Option(help="Write-ahead log folder (default: <lake>/<tenant>/_meta/mllp/<source>).")] = None,
    dedup_hours: Annotated[float, typer.Option(min=0, help="How long retransmissions are recognised.")] = 24.0,
) -> None:
    """Receive HL7 v2 over MLLP; acknowledge each message once it is on disk; land, bronze and
    map it every few seconds. Stops cleanly on Ctrl-C or SIGTERM.

    Example: medlake listen --tenant acme --source adt_feed --port 2575
    """
    import asyncio

    from medlake.cli.main import _fail, _tenant, console
    from medlake.config import load_config
    from medlake.errors import ConfigError, MedlakeError
    from medlake.pipeline import open_lake
    from medlake.sources.mllp import Listener, ListenSettings
    from medlake.sources.mllp_batch import BatchWorker

    def say(line: str) -> None:
        console.print(f"{datetime.now():%H:%M:%S} {line}", markup=False, highlight=False, soft_wrap=True)

    try:
        project = load_config(config)
        tenant_name = _tenant(project, tenant)
        src = project.tenant(tenant_name).source(source)
        if src.kind != "hl7v2":
            raise ConfigError(
                f"source `{source}` is of kind `{src.kind}`; `medlake listen` receives HL7 v2: give an `hl7v2` source",
                source=source,
            )
        lake = open_lake(project, tenant_name)
        folder = wal_dir or _default_wal_dir(lake.root, project.lake_uri(), source)
        _ensure_location(project.resolve_location(src.location))
        settings = ListenSettings(
            host=host,
            port=port,
            batch_seconds=batch_seconds,
            max_frame=max_frame_bytes,
            processing_id=processing_id,
            dedup_hours=dedup_hours,
            tls_cert=str(tls_cert) if tls_cert else None,
            tls_key=str(tls_key) if tls_key else None,
        )
        if bool(tls_cert) != bool(tls_key):
            raise ConfigError("TLS needs both `--tls-cert` and `--tls-key`")
        worker = BatchWorker(project, tenant_name, source, str(folder))
        listener = Listener(settings, folder, worker, name=f"mllp:{source}", on_event=say)
        asyncio.run(listener.serve(signals=True))
    except MedlakeError as e:
        raise _fail(e) from None


def _default_wal_dir(tenant_root: str, lake_uri: str, source: str) -> Path:
    from medlake.errors import ConfigError

    if "://" in tenant_root:
        raise ConfigError(
            f"the lake `{lake_uri}` is in object storage; the listener's write-ahead log must be on a local "
            "disk: give one with `--wal-dir`",
            uri=lake_uri,
        )
    return Path(tenant_root) / "_meta" / "mllp" / source


def _ensure_location(location: str) -> None:
    """The source's `location` folder must exist for the pipeline's land step; create it when
    it is a plain local folder path."""
    if "://" in location or any(ch in location for ch in "*?["):
        return
    p = Path(location)
    if not p.exists() and not p.suffix:
        p.mkdir(parents=True, exist_ok=True)
