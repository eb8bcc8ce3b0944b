"""`medlake serve`: the FHIR R4 API over one tenant's silver layer (registered in cli/main.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="MEDLAKE_CONFIG", help="Project file.")] = Path("medlake.yaml"),
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant (default: the only one).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64, help="Server processes; each keeps its own serving copy of the lake (memory and start-up time grow with it).")] = 1,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve WITHOUT authentication: every caller reads everything. Development only; loopback addresses only.")] = False,
) -> None:
    """Serve the tenant's silver resources as a read-only FHIR R4 API (metadata, read, vread,
    _history, search, Patient/$everything, Bulk Data $export, $viewdefinition-run). Callers send OAuth2 bearer tokens (JWT) checked
    as the project's `serve.auth` section says (see docs/security.md); every access to PHI is
    written to the tenant's audit log (`medlake audit verify`). Without `serve.auth` it
    refuses to start, unless run with `--no-auth` or `serve.allow_anonymous: true`.
    Needs the `serve` extra (`pip install 'medlake[serve]'`). Stops on Ctrl-C.

    Example: medlake serve -c medlake.yaml --tenant acme --port 8080

    Development, no tokens: medlake serve -c medlake.yaml --tenant acme --no-auth
    """
    import logging

    from medlake.cli.main import _fail, _tenant, console, err
    from medlake.config import load_config
    from medlake.errors import ConfigError, MedlakeError
    from medlake.serve import _web
    from medlake.serve.app import ENV_CONFIG, ENV_NO_AUTH, ENV_TENANT, anonymous, create_app
    from medlake.serve.auth import auth_config

    if no_auth and host not in LOOPBACK:
        raise typer.BadParameter(
            f"`--no-auth` listens on loopback only ({', '.join(LOOPBACK)}), not `{host}`; "
            "configure `serve.auth` to serve other hosts",
            param_hint="--no-auth",
        )
    try:
        project = load_config(config)
        tenant_name = _tenant(project, tenant)
        if not no_auth and project.serve.auth is None and not project.serve.allow_anonymous:
            raise ConfigError(
                f"{config}: no authentication is configured, so the server will not start; add a `serve.auth` "
                "section (see docs/security.md), or pass `--no-auth` to serve without tokens on this machine "
                "(development only)",
                file=str(config),
                key="serve.auth",
            )
        uvicorn = _web.uvicorn()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        if workers == 1:
            app = create_app(project, tenant_name, auth=anonymous if no_auth else None)
        else:  # the workers build their apps; fail here, once, on what they would all fail on
            app = None
            if project.serve.auth is not None and not no_auth:
                auth_config(project.serve.auth, project.base_dir)
    except MedlakeError as e:
        raise _fail(e) from None
    mode = _auth_mode(project.serve.auth, no_auth)
    if project.serve.auth is None or no_auth:
        ignored = " (`serve.auth` in the project file is ignored)" if no_auth and project.serve.auth else ""
        err.print(
            f"[bold red]WARNING:[/] authentication is OFF{ignored}: every caller can read every resource of "
            f"tenant {tenant_name}. Development only.",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"FHIR R4 API for tenant {tenant_name} on http://{host}:{port}/metadata", soft_wrap=True, highlight=False, markup=False)
    console.print(f"auth: {mode}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"audit log: {project.lake_uri()}/{tenant_name}/_meta/audit/ (check it with `medlake audit verify`)", soft_wrap=True, highlight=False, markup=False)
    # uvicorn's access log prints query strings (name=, birthdate= are PHI): ours logs paths only
    if app is not None:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
        return
    # several processes: uvicorn starts each from an import string, so the app is built per worker
    # from these variables (see `medlake.serve.app.app_from_environment`)
    os.environ.update({ENV_CONFIG: str(config.resolve()), ENV_TENANT: tenant_name, ENV_NO_AUTH: "1" if no_auth else ""})
    console.print(f"workers: {workers}", soft_wrap=True, highlight=False, markup=False)
    uvicorn.run(
        "medlake.serve.app:app_from_environment", factory=True, workers=workers,
        host=host, port=port, access_log=False, log_level="info",
    )


def _auth_mode(settings: Any, no_auth: bool) -> str:
    if no_auth:
        return "none (--no-auth)"
    if settings is None:
        return "none (serve.allow_anonymous)"
    keys = []
    if settings.secret_env:
        keys.append(f"HS256 secret from ${settings.secret_env}")
    if settings.public_key_file:
        keys.append(f"RS256 key {settings.public_key_file}")
    issuer = f"`{settings.issuer}`" if settings.issuer else "any (set `issuer`)"
    return (
        f"bearer tokens ({'; '.join(keys)}), audience `{settings.audience}`, issuer {issuer}, "
        f"tenant claim `{settings.tenant_claim}`"
    )
