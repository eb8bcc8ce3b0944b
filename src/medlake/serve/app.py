"""The FHIR R4 API over one tenant's silver layer (read-only).

    app = create_app(project, "demo")                       # no auth: development only
    app = create_app(project, "demo", auth=check, audit=log)  # how a deployment wires security

`auth(request, resource_type, interaction)` (interaction: `read`, `vread`, `history` or
`search`) returns an `Access`: the caller (a principal, any object) and, for patient-context
tokens, the one patient whose compartment it may see; or it raises (401/403) an exception the
app has a handler for (`ApiError`, or register one, e.g. `medlake.serve.auth.auth_error_handler`).
`audit(request, principal, action, resource_type, count)` is called once per resource type for
every response that carries resources. Both run in the request's worker thread. Without `auth`
every caller is anonymous and may read everything. `/metadata` is public (FHIR).
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
from medlake.lake.paths import TenantLake
from medlake.serve import _web, query
from medlake.serve import bundle as bundles
from medlake.serve.outcome import FHIR_JSON, ApiError, not_found, outcome
from medlake.serve.params import params_for
from medlake.serve.store import ResourceStore, referenced_ids

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


def _no_auth(request: Any, resource_type: str, interaction: str) -> Access:
    return Access()


def _no_audit(request: Any, principal: object, action: str, resource_type: str, count: int) -> None:
    return None


def create_app(
    project: ProjectConfig, tenant: str, *, auth: Authorizer | None = None, audit: AuditSink | None = None,
    refresh_seconds: float = 30.0,
) -> Any:
    """A FastAPI app serving `tenant`'s silver resources as a FHIR R4 server."""
    fastapi = _web.fastapi()
    project.tenant(tenant)  # a ConfigError naming the tenants when it is not one
    lake = TenantLake.open(project.lake_uri(), tenant, project.storage_options)
    api = _Api(ResourceStore(lake, refresh_seconds), auth or _no_auth, audit or _no_audit)
    if auth is None:
        log.warning("FHIR API for tenant %s runs without authentication (development only)", tenant)
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        api.store.close()  # removes the serving copy (uvicorn re-raises SIGTERM, so exit hooks may not run)

    app = fastapi.FastAPI(
        title=f"medlake FHIR R4 API ({tenant})", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.store = api.store
    _routes(app, api)
    _handlers(app)
    return app


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
            self.audit(request, principal, action, rtype, n)

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


def _handlers(app: Any) -> None:
    from starlette.exceptions import HTTPException

    async def log_requests(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        # the path only: query strings carry PHI (name=, birthdate=) and are never logged
        log.info("%s %s -> %d", request.method, request.url.path, response.status_code)
        return response

    async def api_error(request: Any, exc: ApiError) -> Any:
        return _fhir(outcome(exc.code, exc.message), exc.status)

    async def http_error(request: Any, exc: HTTPException) -> Any:
        code = "not-found" if exc.status_code == 404 else "not-supported" if exc.status_code == 405 else "processing"
        return _fhir(outcome(code, f"{request.method} {request.url.path}: {exc.detail}"), exc.status_code)

    async def crash(request: Any, exc: Exception) -> Any:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return _fhir(outcome("exception", "the server failed to answer; the error is in its log"), 500)

    app.middleware("http")(log_requests)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crash)
