"""The FHIR R4 API over one tenant's silver layer (read-only).

    app = create_app(project, "acme")          # bearer tokens from the project's `serve.auth`
    app = create_app(project, "acme", auth=check, audit=sink)  # explicit hooks override the config

`auth(request, resource_type, interaction)` (interaction: `read`, `vread`, `history` or
`search`) returns an `Access`: the caller (a principal, any object) and, for patient-context
tokens, the one patient whose compartment it may see; or it raises (401/403) an exception the
app has a handler for (`ApiError`, or `medlake.serve.auth.AuthError`, whose handler is always
registered). Without `auth`, the project's `serve.auth` builds it (bearer JWTs checked for this
tenant, then SMART scopes); with neither, every caller is anonymous and reads everything
(development only; `medlake serve` refuses that unless `--no-auth` or `allow_anonymous`).

`audit(request, principal, action, resource_type, count)` is called once per resource type for
every response that carries resources, and for every search (count 0 when nothing matched).
Without `audit`, each call appends an entry to the tenant's hash-chained `AuditLog`. A failing
audit call fails the request (500): nothing is served unaudited. Both run in the request's
worker thread. `/metadata` is public (FHIR).
"""


import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import orjson

from medlake import __version__
from medlake.config import ProjectConfig
from medlake.errors import MedlakeError
from medlake.lake.audit import AuditLog
from medlake.lake.paths import TenantLake
from medlake.serve import _web, bulk, query
from medlake.serve import bundle as bundles
from medlake.serve.auth import (
    AuditWriter,
    AuthConfig,
    auth_config,
    auth_error_handler,
    request_principal,
    require,
)
from medlake.serve.outcome import FHIR_JSON, ApiError, not_found, outcome
from medlake.serve.params import params_for
from medlake.serve.store import ResourceStore, referenced_ids
from medlake.serve.ui import add_ui_routes
from medlake.serve.viewrun import add_viewrun_routes

log = logging.getLogger("medlake.serve")

DEFAULT_COUNT = 50
MAX_COUNT = 1000
MAX_INCLUDED = 10_000


@dataclass(frozen=True)
class Access:
    """Who is asking, and the patient whose compartment bounds what they see (None: no bound)."""

    principal: object = None
    patient: str | None = None


class Authorizer(Protocol):
    def __call__(self, request: Any, resource_type: str, interaction: str) -> Access: ...


class AuditSink(Protocol):
    def __call__(self, request: Any, principal: object, action: str, resource_type: str, count: int) -> None: ...


def anonymous(request: Any, resource_type: str, interaction: str) -> Access:
    """The authorizer of a server without authentication: everyone may read everything."""
    return Access()


def token_auth(config: AuthConfig, tenant: str) -> Authorizer:
    """Bearer JWTs for `tenant` (401/403 as `AuthError`), then the SMART scopes of the interaction."""

    def check(request: Any, resource_type: str, interaction: str) -> Access:
        principal = request_principal(request, config, tenant)
        return Access(principal, require(principal, resource_type, interaction))

    return check


def create_app(
    project: ProjectConfig, tenant: str, *, auth: Authorizer | None = None, audit: AuditSink | None = None,
    refresh_seconds: float = 30.0,
) -> Any:
    """A FastAPI app serving `tenant`'s silver resources as a FHIR R4 server."""
    fastapi = _web.fastapi()
    project.tenant(tenant)  # a ConfigError naming the tenants when it is not one
    lake = TenantLake.open(project.lake_uri(), tenant, project.storage_options)
    settings = project.serve.auth
    tokens = auth_config(settings, project.base_dir) if auth is None and settings is not None else None
    if tokens is not None:
        auth = token_auth(tokens, tenant)
    sink = audit or AuditWriter(AuditLog(lake))  # a lake the log cannot be kept in fails here, not per request
    if auth is None or auth is anonymous:
        log.warning("FHIR API for tenant %s runs WITHOUT authentication: every caller reads everything (development only)", tenant)
    api = _Api(ResourceStore(lake, refresh_seconds), auth or anonymous, sink)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        api.store.close()  # removes the serving copy (uvicorn re-raises SIGTERM, so exit hooks may not run)

    app = fastapi.FastAPI(
        title=f"medlake FHIR R4 API ({tenant})", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.store = api.store
    bulk.add_bulk_routes(app, api, lake)  # before `_routes`: its `/{rtype}` routes would take `/$export`
    add_viewrun_routes(app, api, lake)  # before `_routes` too (serve/viewrun.py)
    add_ui_routes(  # the status dashboard under /ui (serve/ui/), before `_routes` as well
        app, project, tenant, authorize=api.auth, record=api._record, tokens=tokens, open_mode=api.auth is anonymous
    )
    _routes(app, api)
    _handlers(app)
    auth_error_handler(app)
    return app


ENV_CONFIG, ENV_TENANT, ENV_NO_AUTH = "MEDLAKE_SERVE_CONFIG", "MEDLAKE_SERVE_TENANT", "MEDLAKE_SERVE_NO_AUTH"
"""How `medlake serve --workers N` tells each worker process what to serve."""


def app_from_environment() -> Any:
    """The app of one `medlake serve --workers N` process (uvicorn calls this factory in each
    worker): the project file, tenant and `--no-auth` choice come from `MEDLAKE_SERVE_CONFIG`,
    `MEDLAKE_SERVE_TENANT` and `MEDLAKE_SERVE_NO_AUTH`, which the command sets."""
    import os

    from medlake.config import load_config
    from medlake.errors import ConfigError

    missing = [name for name in (ENV_CONFIG, ENV_TENANT) if not os.environ.get(name)]
    if missing:
        raise ConfigError(f"{' and '.join(missing)} not set: start the server with `medlake serve --workers N`")
    if not logging.getLogger().handlers:  # a spawned worker does not inherit the parent's logging set-up
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    project = load_config(os.environ[ENV_CONFIG])
    no_auth = os.environ.get(ENV_NO_AUTH) == "1"
    return create_app(project, os.environ[ENV_TENANT], auth=anonymous if no_auth else None)


class _Api:
    """The interactions, as plain methods of (request, path values) → (body, headers)."""

    def __init__(self, store: ResourceStore, auth: Authorizer, audit: AuditSink) -> None:
        self.store, self.auth, self.audit = store, auth, audit
        self.started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _type(self, rtype: str) -> None:
        if rtype not in self.store.types:
            present = ", ".join(self.store.types) or "none"
            raise ApiError(404, "not-supported", f"resource type `{rtype[:64]}` is not served here; the types are: {present}")

    def _deliver(self, request: Any, principal: object, action: str, resources: list[dict[str, Any]]) -> None:
        """The one place PHI leaves the server: audit it, per type, with counts."""
        counts: dict[str, int] = {}
        for res in resources:
            counts[res["resourceType"]] = counts.get(res["resourceType"], 0) + 1
        for rtype, n in sorted(counts.items()):
            self._record(request, principal, action, rtype, n)

    def _record(self, request: Any, principal: object, action: str, rtype: str, count: int) -> None:
        """One audit call; when it fails the request fails (500) and nothing is served unaudited."""
        try:
            self.audit(request, principal, action, rtype, count)
        except ApiError:
            raise
        except Exception as e:
            log.error("audit write failed (%s %s, %d resources), response withheld: %s", action, rtype, count, _why(e))
            raise ApiError(
                500, "exception", "the access could not be written to the audit log, so nothing was returned; the error is in the server's log"
            ) from None

    def metadata(self, request: Any) -> dict[str, Any]:
        return bundles.capability(self.store.types, self.started, __version__)

    def read(self, request: Any, rtype: str, rid: str) -> tuple[dict[str, Any], dict[str, str]]:
        self._type(rtype)
        access = self.auth(request, rtype, "read")
        res = self.store.read(rtype, rid, access.patient)
        if res is None:
            raise not_found(rtype, rid)
        self._deliver(request, access.principal, "read", [res])
        return res, _version_headers(res)

    def vread(self, request: Any, rtype: str, rid: str, vid: str) -> tuple[dict[str, Any], dict[str, str]]:
        self._type(rtype)
        access = self.auth(request, rtype, "vread")
        found = [v for v in self.store.versions(rtype, rid, access.patient) if str(v.version) == vid]
        if not found:
            raise not_found(rtype, rid, vid)
        self._deliver(request, access.principal, "vread", [found[0].resource])
        return found[0].resource, _version_headers(found[0].resource)

    def history(self, request: Any, rtype: str, rid: str) -> dict[str, Any]:
        self._type(rtype)
        access = self.auth(request, rtype, "history")
        versions = self.store.versions(rtype, rid, access.patient)
        if not versions:
            raise not_found(rtype, rid)
        self._deliver(request, access.principal, "history", [v.resource for v in versions])
        return bundles.history(_base(request), str(request.url), rtype, rid, versions)

    def search(self, request: Any, rtype: str) -> dict[str, Any]:
        self._type(rtype)
        access = self.auth(request, rtype, "search")
        items = list(request.query_params.multi_items())
        where = query.within(query.build(rtype, items, params_for(rtype)), access.patient)
        count = _count(request.query_params.get("_count"))
        cursor = request.query_params.get("_cursor")
        after = bundles.decode_cursor(cursor) if cursor else None
        matches, total, last = self.store.search(rtype, where, count, after)
        included = self._included(request, rtype, matches, items)
        next_url = _page_url(request, items, bundles.encode_cursor(last)) if last else None
        self._deliver(request, access.principal, "search", matches + included)
        if not matches and not included:  # the query and its total say something too
            self._record(request, access.principal, "search", rtype, 0)
        return bundles.searchset(_base(request), str(request.url), next_url, total, matches, included)

    def everything(self, request: Any, rid: str) -> dict[str, Any]:
        self._type("Patient")
        access = self.auth(request, "Patient", "read")
        for rtype in self.store.types:  # every type it may return must be allowed
            self.auth(request, rtype, "search")
        patient = self.store.read("Patient", rid, access.patient)
        if patient is None:
            raise not_found("Patient", rid)
        found = [patient, *self.store.compartment(rid)]
        self._deliver(request, access.principal, "everything", found)
        return bundles.searchset(_base(request), str(request.url), None, len(found), found, [])

    def _included(self, request: Any, rtype: str, matches: list[dict[str, Any]], items: list[tuple[str, str]]) -> list[dict[str, Any]]:
        ids = [r["id"] for r in matches]
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for name, value in items:
            if name == "_include":
                for res in self._include(request, rtype, ids, value):
                    out.setdefault((res["resourceType"], res["id"]), res)
            elif name == "_revinclude":
                for res in self._revinclude(request, rtype, ids, value):
                    out.setdefault((res["resourceType"], res["id"]), res)
        return list(out.values())

    def _include(self, request: Any, rtype: str, ids: list[str], value: str) -> list[dict[str, Any]]:
        source, _, rest = value.partition(":")
        name, _, target = rest.partition(":")
        param = params_for(rtype).params.get(name) if source == rtype else None
        if param is None or param.kind != "reference" or (target and target not in param.targets):
            raise _bad_include("_include", value, [f"{rtype}:{p.name}" for p in params_for(rtype).references()])
        found: list[dict[str, Any]] = []
        for t in [target] if target else list(param.targets):
            if t in self.store.types:
                bound = self.auth(request, t, "search").patient
                found += self.store.by_ids(t, referenced_ids(self.store, rtype, ids, param), bound)
        return found

    def _revinclude(self, request: Any, rtype: str, ids: list[str], value: str) -> list[dict[str, Any]]:
        source, _, name = value.partition(":")
        name = name.partition(":")[0]
        param = params_for(source).params.get(name) if source in self.store.types else None
        if param is None or param.kind != "reference" or rtype not in param.targets:
            options = [f"{t}:{p.name}" for t in self.store.types for p in params_for(t).references() if rtype in p.targets]
            raise _bad_include("_revinclude", value, options)
        if not ids:
            return []
        bound = self.auth(request, source, "search").patient
        where = query.within(query.build(source, [(name, ",".join(ids))], params_for(source)), bound)
        return self.store.matching(source, where, MAX_INCLUDED)


def _why(e: Exception) -> str:
    """An error for the log: its type and our own message or errno, never request values."""
    if isinstance(e, MedlakeError):
        return f"{type(e).__name__}: {e.message}"
    if isinstance(e, OSError):
        return f"{type(e).__name__} errno {e.errno}"
    return type(e).__name__


def _bad_include(param: str, value: str, options: list[str]) -> ApiError:
    return ApiError(400, "not-supported", f"search parameter `{param}`: `{value[:80]}` is not supported here; use one of: {', '.join(options) or 'none'}")


def _count(text: str | None) -> int:
    if text is None:
        return DEFAULT_COUNT
    if not text.isdigit() or int(text) > MAX_COUNT:
        raise query.bad("_count", f"must be a whole number from 0 to {MAX_COUNT}")
    return int(text)


def _base(request: Any) -> str:
    return str(request.base_url).rstrip("/")


def _page_url(request: Any, items: list[tuple[str, str]], cursor: str) -> str:
    kept = [(k, v) for k, v in items if k != "_cursor"] + [("_cursor", cursor)]
    return f"{_base(request)}{request.url.path}?{urlencode(kept)}"


def _version_headers(res: dict[str, Any]) -> dict[str, str]:
    meta = res.get("meta", {})
    headers = {"ETag": f'W/"{meta.get("versionId", "1")}"'}
    if "lastUpdated" in meta:
        headers["Last-Modified"] = datetime.fromisoformat(meta["lastUpdated"]).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return headers


def _fhir(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)


def _routes(app: Any, api: _Api) -> None:
    from starlette.requests import Request  # evaluated here: FastAPI reads the annotations

    def metadata(request: Request) -> Any:
        return _fhir(api.metadata(request))

    def everything(request: Request, rid: str) -> Any:
        return _fhir(api.everything(request, rid))

    def vread(request: Request, rtype: str, rid: str, vid: str) -> Any:
        body, headers = api.vread(request, rtype, rid, vid)
        return _fhir(body, headers=headers)

    def history(request: Request, rtype: str, rid: str) -> Any:
        return _fhir(api.history(request, rtype, rid))

    def read(request: Request, rtype: str, rid: str) -> Any:
        body, headers = api.read(request, rtype, rid)
        return _fhir(body, headers=headers)

    def search(request: Request, rtype: str) -> Any:
        return _fhir(api.search(request, rtype))

    for path, handler in (
        ("/metadata", metadata), ("/Patient/{rid}/$everything", everything), ("/{rtype}/{rid}/_history/{vid}", vread),
        ("/{rtype}/{rid}/_history", history), ("/{rtype}/{rid}", read), ("/{rtype}", search),
    ):
        app.add_api_route(path, handler, methods=["GET"])


class _RequestLog:
    """Logs `METHOD /path -> status` per request: the path only, as query strings carry PHI
    (name=, birthdate=). Plain ASGI: Starlette's `BaseHTTPMiddleware` costs a task and a
    stream per request, which showed in the latency under load."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s -> %d", scope["method"], scope["path"], status[0])


def _handlers(app: Any) -> None:
    from starlette.exceptions import HTTPException


    async def api_error(request: Any, exc: ApiError) -> Any:
        return _fhir(outcome(exc.code, exc.message), exc.status)

    async def http_error(request: Any, exc: HTTPException) -> Any:
        code = "not-found" if exc.status_code == 404 else "not-supported" if exc.status_code == 405 else "processing"
        return _fhir(outcome(code, f"{request.method} {request.url.path}: {exc.detail}"), exc.status_code)

    async def crash(request: Any, exc: Exception) -> Any:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return _fhir(outcome("exception", "the server failed to answer; the error is in its log"), 500)

    app.add_middleware(_RequestLog)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crash)
