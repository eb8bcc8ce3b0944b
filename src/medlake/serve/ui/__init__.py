"""The status dashboard: server-rendered HTML pages under `/ui` of `medlake serve`.

    /ui                                    the medallion status matrix (tenants × sources × layers)
    /ui/{tenant}/sources/{source}          runs, row counts over time, check results, quarantine
    /ui/{tenant}/quality                   quality scores by source and dimension, trend
    /ui/{tenant}/patients/{person_id}      Patient 360 of one person (PHI: token + audit)
    /ui/login?token=…                      keeps a bearer token in a cookie for a browser

`add_ui_routes` mounts them on the FHIR app of `medlake.serve.app.create_app`, which serves
one tenant. Without authentication (`--no-auth`) the matrix, source and quality pages cover
every tenant of the project; with it they need a token the FHIR API accepts for the served
tenant (any scopes: they hold counts only) and show that tenant only. Patient 360 is only
for the served tenant and needs read on Patient and search on Encounter and Condition, like
`Patient/$everything`; every view is written to the tenant's audit log before it is sent.
See docs/dashboard.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from medlake.config import ProjectConfig
from medlake.errors import ConfigError
from medlake.serve.auth import AuthConfig, AuthError, request_principal
from medlake.serve.outcome import ApiError
from medlake.serve.ui import pages
from medlake.serve.ui.facts import Catalog, tenant_facts
from medlake.serve.ui.html import page
from medlake.serve.ui.overrides import load_overrides, status_path
from medlake.serve.ui.states import TenantStatus, tenant_status

COOKIE = "medlake_ui_token"
Record = Callable[[Any, object, str, str, int], None]


def add_ui_routes(
    app: Any, project: ProjectConfig, tenant: str, *, authorize: Any, record: Record, tokens: AuthConfig | None, open_mode: bool,
) -> None:
    """Mount `/ui` on `app` (before the FHIR `/{type}` routes, which would take its paths).

    `authorize(request, resource_type, interaction) -> Access` is the FHIR API's authorizer,
    `record(request, principal, action, resource_type, count)` its audit call (raises 500 when
    the log cannot be written), `tokens` the bearer-token settings when the project has them,
    `open_mode` true when the server runs without authentication.
    """
    ui = _Dashboard(project, tenant, authorize, record, tokens, open_mode)
    for path, handler in (
        ("/ui", ui.matrix), ("/ui/login", ui.login), ("/ui/{name}/quality", ui.quality),
        ("/ui/{name}/sources/{source}", ui.source), ("/ui/{name}/patients/{person_id}", ui.patient),
    ):
        app.add_api_route(path, _html(handler), methods=["GET"], include_in_schema=False)


def _html(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The route: the handler's HTML, or an HTML error page for an auth or API error."""
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

    def route(request: Request) -> Any:
        try:
            return handler(request, **request.path_params)
        except AuthError as e:
            return HTMLResponse(pages.message_page("Sign-in needed" if e.status == 401 else "Not allowed", e.message + _login_hint(e)),
                                status_code=e.status, headers={"WWW-Authenticate": e.www_authenticate})
        except ApiError as e:
            return HTMLResponse(pages.message_page("Not found" if e.status == 404 else "Error", e.message), status_code=e.status)

    route.__annotations__["request"] = Request  # FastAPI reads it to pass the request (imported here, not at module level)
    return route


def _login_hint(e: AuthError) -> str:
    return "; or sign in at /ui/login" if e.status == 401 else ""


class _Dashboard:
    def __init__(self, project: ProjectConfig, tenant: str, authorize: Any, record: Record, tokens: AuthConfig | None, open_mode: bool) -> None:
        self.project, self.tenant, self.authorize, self.record = project, tenant, authorize, record
        self.tokens, self.open_mode = tokens, open_mode

    # -- who may see what ------------------------------------------------------------------

    def _caller(self, request: Any) -> object:
        """The principal of a counts page (None in open mode); raises `AuthError` without a valid token."""
        if self.open_mode:
            return None
        if self.tokens is not None:
            return request_principal(request, self.tokens, self.tenant)
        return self.authorize(request, "Patient", "search").principal

    def _visible(self) -> list[str]:
        return [t.name for t in self.project.tenants] if self.open_mode else [self.tenant]

    def _scoped(self, name: str) -> None:
        if name in self._visible():
            return
        if any(t.name == name for t in self.project.tenants):
            raise ApiError(403, "forbidden", f"this server serves tenant `{self.tenant}`; its tokens do not cover `{name}`")
        raise ApiError(404, "not-found", f"no tenant `{name[:64]}` in this project")

    # -- pages --------------------------------------------------------------------------------

    def matrix(self, request: Any) -> Any:
        self._caller(with_cookie(request))
        banner = None
        try:
            overrides = load_overrides(status_path(self.project))
        except ConfigError as e:
            overrides, banner = {}, f"status overrides not applied: {e.message}"
        statuses: list[TenantStatus] = []
        for name in self._visible():
            cat = Catalog(self.project, name)
            try:
                statuses.append(tenant_status(self.project, name, tenant_facts(cat), overrides))
            finally:
                cat.close()
        unknown = sorted(
            ".".join(k) for k in overrides
            if k[0] in self._visible() and k[1] not in {s.source for t in statuses if t.tenant == k[0] for s in t.sources}
        )
        if unknown and banner is None:
            banner = f"status.yaml names sources this tenant does not have (ignored): {', '.join(unknown)}"
        return _page(pages.matrix_page(statuses, banner))

    def source(self, request: Any, name: str, source: str) -> Any:
        self._caller(with_cookie(request))
        self._scoped(name)
        kinds = {s.name: str(s.kind) for s in self.project.tenant(name).sources}
        cat = Catalog(self.project, name)
        try:
            if source not in kinds and not tenant_facts(cat).sources_seen >= {source}:
                raise ApiError(404, "not-found", f"tenant `{name}` has no source `{source[:64]}`")
            return _page(pages.source_page(cat, source, kinds.get(source, "unconfigured")))
        finally:
            cat.close()

    def quality(self, request: Any, name: str) -> Any:
        self._caller(with_cookie(request))
        self._scoped(name)
        cat = Catalog(self.project, name)
        try:
            return _page(pages.quality_page(cat))
        finally:
            cat.close()

    def patient(self, request: Any, name: str, person_id: str) -> Any:
        req = with_cookie(request)
        if name != self.tenant:
            self._scoped(name)
            raise ApiError(404, "not-found", f"Patient 360 is served for tenant `{self.tenant}` only; start `medlake serve --tenant {name}` for `{name}`")
        access = self.authorize(req, "Patient", "read")
        for rtype in ("Encounter", "Condition"):
            self.authorize(req, rtype, "search")
        cat = Catalog(self.project, name, gold=True)
        try:
            if not cat.has("gold.patient_360"):
                raise ApiError(404, "not-found", "gold.patient_360 is not built yet: run `medlake build`")
            cur = cat.con.execute("select * from gold.patient_360 where person_id = ?", [person_id])
            row = cur.fetchone()
            person = dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None
            if person is None or (access.patient is not None and access.patient not in (person.get("patient_ids") or [])):
                raise ApiError(404, "not-found", f"no person `{person_id[:64]}` in gold.patient_360")
            encounters = cat.rows(
                "select period_start, period_end, class_code, type_display, source, status from gold.fct_encounters "
                "where person_id = ? order by period_start desc nulls last, encounter_id limit 20", [person_id], needs="gold.fct_encounters")
            conditions = cat.rows(
                "select code, code_display, clinical_status, onset_at, source from gold.fct_conditions "
                "where person_id = ? order by onset_at desc nulls last, condition_id limit 50", [person_id], needs="gold.fct_conditions")
        finally:
            cat.close()
        self.record(req, access.principal, "read", "Patient", 1)  # nothing is sent unaudited
        self.record(req, access.principal, "search", "Encounter", len(encounters))
        self.record(req, access.principal, "search", "Condition", len(conditions))
        return _page(pages.patient_page(name, person, encounters, conditions), private=True)

    def login(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        token = request.query_params.get("token")
        if self.open_mode:
            return RedirectResponse("/ui", status_code=303)
        if not token:
            return _page(page("Sign in", _LOGIN_FORM))
        self._caller(with_cookie(request, token))
        response = RedirectResponse("/ui", status_code=303)
        response.set_cookie(COOKIE, token, path="/ui", httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response


_LOGIN_FORM = (
    '<form method="get" action="/ui/login"><p>Paste a bearer token the FHIR API accepts for this tenant; it is kept in '
    'an HttpOnly cookie for the <code>/ui</code> pages.</p><input name="token" type="password" size="80" autocomplete="off"> '
    '<button type="submit">Sign in</button></form>'
)


def with_cookie(request: Any, token: str | None = None) -> Any:
    """`request`, or a copy carrying `Authorization: Bearer <cookie token>` when it has no such header."""
    from starlette.requests import Request

    explicit = token is not None  # the login form's token replaces any header
    token = token or request.cookies.get(COOKIE)
    if not token or (not explicit and request.headers.get("authorization")):
        return request
    try:
        value = f"Bearer {token}".encode("latin-1")
    except UnicodeEncodeError:
        raise AuthError(401, "malformed-token", "the bearer token is not a JWT (three base64url parts)") from None
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"] + [(b"authorization", value)]
    return Request({**request.scope, "headers": headers})


def _page(html: str, *, private: bool = False) -> Any:
    from starlette.responses import HTMLResponse

    headers = {"Cache-Control": "no-store"} if private else {}
    return HTMLResponse(html, headers=headers)


__all__ = ["COOKIE", "add_ui_routes", "with_cookie"]
