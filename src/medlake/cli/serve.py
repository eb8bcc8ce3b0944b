"""`medlake serve`: the FHIR R4 API over one tenant's silver layer (registered in cli/main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")] = Path("medlake.yaml"),
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port.")] = 8080,
) -> None:
    """Serve the tenant's silver resources as a read-only FHIR R4 API (metadata, read, vread,
    _history, search, Patient/$everything). Without authentication: development only.
    Needs the `serve` extra (`pip install 'medlake[serve]'`). Stops on Ctrl-C.

    Example: medlake serve -c medlake.yaml --tenant acme --port 8080
    """
    import logging

    from medlake.cli.main import _fail, _tenant, console
    from medlake.config import load_config
    from medlake.errors import MedlakeError
    from medlake.serve import _web
    from medlake.serve.app import create_app

    try:
        project = load_config(config)
        tenant_name = _tenant(project, tenant)
        uvicorn = _web.uvicorn()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        app = create_app(project, tenant_name)
    except MedlakeError as e:
        raise _fail(e) from None
    console.print(f"FHIR R4 API for tenant {tenant_name} on http://{host}:{port}/metadata", soft_wrap=True)
    # uvicorn's access log prints query strings (name=, birthdate= are PHI): ours logs paths only
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
