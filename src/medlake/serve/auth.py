"""OAuth2 bearer tokens: a signed JWT in, a `Principal` (who, which tenant, which scopes) out.

Each deployment configures one `AuthConfig`: the issuer and audience it trusts and the key
that signs tokens (HS256 with a shared secret, RS256 with the issuer's public key). A token
is valid for exactly one tenant, named by its `tenant` claim; a request for another tenant
gets 403. What the token may do is its SMART scopes (see `medlake.serve.scopes`).

Every failure is an `AuthError` with the HTTP status, a short code, a sentence fit for an
OperationOutcome, and the `WWW-Authenticate` header. Messages carry claim names and
tenants, never token bytes or data. PyJWT is imported only when a token is checked, and
FastAPI only by `bearer_principal`.

A project's `serve.auth` section (`medlake.config.ServeAuthConfig`) becomes an `AuthConfig`
through `auth_config`, which reads the HS256 secret from its environment variable and checks
the RS256 key file. `AuditWriter` is the API's audit sink: one `audit_event` per access,
appended to the tenant's `AuditLog`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from medlake.config import ServeAuthConfig
from medlake.errors import ConfigError, MedlakeError, MissingExtraError, Terminal
from medlake.lake.audit import AuditEvent, AuditLog, Query, safe_id
from medlake.serve.scopes import Scope, granting, parse_scopes

Algorithm = Literal["HS256", "RS256"]


class AuthConfig(BaseModel):
    """How one deployment checks bearer tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str | None = Field(None, description="Required `iss` claim; None accepts any issuer (not advised).")
    audience: str = Field(description="Required `aud` claim: this server's base URL or id.")
    algorithms: tuple[Algorithm, ...] = Field(("RS256",), description="Accepted signing algorithms: HS256, RS256 or both.")
    secret: SecretStr | None = Field(None, description="Shared secret for HS256 (at least 32 bytes).")
    public_key_file: Path | None = Field(None, description="PEM public key of the issuer, for RS256.")
    leeway_s: int = Field(30, ge=0, le=600, description="Clock skew allowed on `exp`, `nbf` and `iat`, seconds.")
    tenant_claim: str = Field("tenant", description="Claim that names the one tenant the token is for.")

    @model_validator(mode="after")
    def _keys_present(self) -> AuthConfig:
        if not self.algorithms:
            raise ValueError("auth `algorithms` is empty; list HS256, RS256 or both")
        if "HS256" in self.algorithms and (self.secret is None or len(self.secret.get_secret_value()) < 32):
            raise ValueError("auth algorithm HS256 needs `secret` of at least 32 characters; set it or drop HS256")
        if "RS256" in self.algorithms and self.public_key_file is None:
            raise ValueError("auth algorithm RS256 needs `public_key_file` (the issuer's PEM public key); set it or drop RS256")
        if self.public_key_file is not None and not self.public_key_file.is_file():
            raise ValueError(f"auth `public_key_file` {self.public_key_file} does not exist; point it at the issuer's PEM public key")
        return self

    def key_for(self, algorithm: str) -> str:
        if algorithm == "HS256" and self.secret is not None:
            return self.secret.get_secret_value()
        if algorithm == "RS256" and self.public_key_file is not None:
            return _read_key(self.public_key_file)
        raise KeyError(algorithm)


@lru_cache(maxsize=16)
def _read_key(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, its one tenant and its clinical scopes."""

    subject: str
    tenant: str
    scopes: tuple[Scope, ...]
    patient: str | None = None  # the patient in context, for `patient/` scopes
    token_id: str | None = None  # `jti`
    client_id: str | None = None  # `client_id` or `azp`


class AuthError(MedlakeError, Terminal):
    """A request's credentials were missing, invalid or not enough (HTTP 401 or 403)."""

    def __init__(self, status: Literal[401, 403], code: str, message: str, **context: Any) -> None:
        super().__init__(message, status=status, code=code, **context)
        self.status = status
        self.code = code

    @property
    def www_authenticate(self) -> str:
        """The `WWW-Authenticate` header value (RFC 6750 section 3)."""
        if self.code == "missing-token":
            return 'Bearer realm="medlake"'
        # RFC 6750: a 403 (a scope or tenant the token does not grant) is `insufficient_scope`
        error = "insufficient_scope" if self.status == 403 else "invalid_token"
        text = self.message.replace('"', "'").replace("\\", "/")
        return f'Bearer realm="medlake", error="{error}", error_description="{text}"'

    def operation_outcome(self) -> dict[str, Any]:
        """A FHIR OperationOutcome for the response body."""
        issue = {"expired-token": "expired", "insufficient-scope": "forbidden", "wrong-tenant": "forbidden"}
        kind = issue.get(self.code, "login" if self.status == 401 else "forbidden")
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": kind, "details": {"text": self.message}, "diagnostics": self.code}],
        }


def _jwt() -> Any:
    try:
        import jwt
    except ImportError:
        raise MissingExtraError("PyJWT", "serve") from None
    return jwt


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization or not authorization.strip():
        raise AuthError(401, "missing-token", "no bearer token; send `Authorization: Bearer <token>`")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "malformed-token", "the Authorization header is not `Bearer <token>`")
    return token.strip()


def decode(token: str, config: AuthConfig) -> dict[str, Any]:
    """The verified claims of `token`; raises `AuthError` (401) for any fault."""
    jwt = _jwt()
    try:
        alg = str(jwt.get_unverified_header(token).get("alg"))
    except jwt.PyJWTError:
        raise AuthError(401, "malformed-token", "the bearer token is not a JWT (three base64url parts)") from None
    if alg not in config.algorithms:
        allowed = ", ".join(config.algorithms)
        raise AuthError(401, "bad-algorithm", f"token algorithm `{alg[:20]}` is not accepted; this server takes {allowed}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            config.key_for(alg),
            algorithms=[alg],
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway_s,
            options={"require": ["exp", "sub", "aud", *(["iss"] if config.issuer else [])]},
        )
    except jwt.PyJWTError as e:
        raise _token_error(jwt, e, config) from None
    return claims


def _token_error(jwt: Any, e: Exception, config: AuthConfig) -> AuthError:
    if isinstance(e, jwt.ExpiredSignatureError):
        return AuthError(401, "expired-token", "the bearer token has expired; get a new one")
    if isinstance(e, jwt.ImmatureSignatureError):
        return AuthError(401, "not-yet-valid", "the bearer token is not valid yet (`nbf` or `iat` in the future); check the clocks")
    if isinstance(e, jwt.InvalidSignatureError):
        return AuthError(401, "bad-signature", "the bearer token's signature does not verify with this server's key")
    if isinstance(e, jwt.InvalidAudienceError):
        return AuthError(401, "wrong-audience", f"the bearer token is not for this server; its `aud` must be `{config.audience}`")
    if isinstance(e, jwt.InvalidIssuerError):
        return AuthError(401, "wrong-issuer", f"the bearer token was not issued by `{config.issuer}`")
    if isinstance(e, jwt.MissingRequiredClaimError):
        return AuthError(401, "malformed-token", f"the bearer token has no `{e.claim}` claim")
    return AuthError(401, "malformed-token", "the bearer token could not be decoded")


def principal_from_claims(claims: dict[str, Any], tenant: str, config: AuthConfig) -> Principal:
    """Check the tenant claim and read the scopes; 401 when malformed, 403 for another tenant."""
    claim = config.tenant_claim
    tok_tenant = claims.get(claim)
    if not isinstance(tok_tenant, str) or not tok_tenant:
        raise AuthError(401, "malformed-token", f"the bearer token has no `{claim}` claim naming one tenant")
    if tok_tenant != tenant:
        raise AuthError(403, "wrong-tenant", f"the bearer token is for tenant `{tok_tenant}`, not `{tenant}`", tenant=tenant)
    raw = claims.get("scope", claims.get("scp", ""))
    if not isinstance(raw, str | list):
        raise AuthError(401, "malformed-token", "the bearer token's `scope` claim is neither a string nor a list")
    scopes = parse_scopes(raw if isinstance(raw, str) else [str(s) for s in raw])
    patient = claims.get("patient")
    if any(s.context == "patient" for s in scopes) and not (isinstance(patient, str) and patient):
        raise AuthError(401, "malformed-token", "the bearer token has `patient/` scopes but no `patient` claim")
    client = claims.get("client_id", claims.get("azp"))
    jti = claims.get("jti")
    return Principal(
        subject=str(claims["sub"]),
        tenant=tok_tenant,
        scopes=scopes,
        patient=patient if isinstance(patient, str) and patient else None,
        token_id=str(jti) if jti is not None else None,
        client_id=str(client) if client is not None else None,
    )


def authenticate(authorization: str | None, config: AuthConfig, tenant: str) -> Principal:
    """The `Principal` of an `Authorization` header value, for a request to `tenant`."""
    return principal_from_claims(decode(bearer_token(authorization), config), tenant, config)


def allows(principal: Principal, resource_type: str, interaction: str) -> bool:
    """May `principal` do `interaction` (`read`, `search`, … or letters `cruds`) on `resource_type`?"""
    return bool(granting(principal.scopes, resource_type, interaction))


def patient_compartment(principal: Principal, resource_type: str, interaction: str) -> str | None:
    """The patient id the access must stay within, or None when it is not restricted.

    None when a `user/` or `system/` scope grants the access; the token's patient when only
    `patient/` scopes do. Call `require` first: this does not check that access is granted.
    """
    grants = granting(principal.scopes, resource_type, interaction)
    if any(s.context != "patient" for s in grants):
        return None
    return principal.patient if grants else None


def require(principal: Principal, resource_type: str, interaction: str) -> str | None:
    """Raise 403 unless allowed; return the patient compartment restriction (see `patient_compartment`)."""
    if not allows(principal, resource_type, interaction):
        raise AuthError(
            403,
            "insufficient-scope",
            f"the token's scopes do not allow `{interaction}` on `{resource_type}`; "
            f"ask for a scope such as `system/{resource_type}.rs`",
            tenant=principal.tenant,
        )
    return patient_compartment(principal, resource_type, interaction)


def audit_event(principal: Principal, action: str, resource_type: str, count: int, query: Query = None) -> AuditEvent:
    """The audit-log entry of one access by `principal` (ids that are not plain ids are hashed)."""
    return AuditEvent(
        who=safe_id(principal.subject) or "-",
        action=action,
        resource_type=resource_type,
        count=count,
        client=safe_id(principal.client_id),
        token_id=safe_id(principal.token_id),
        query=query,
    )


def bearer_principal(config: AuthConfig, tenant: str) -> Callable[..., Principal]:
    """A FastAPI dependency that returns the request's `Principal` or raises `AuthError`.

    Install `auth_error_handler` on the app so an `AuthError` becomes a 401/403 response
    with an OperationOutcome body and the `WWW-Authenticate` header.
    """
    from fastapi import Request

    def dependency(request: Request) -> Principal:
        return authenticate(request.headers.get("authorization"), config, tenant)

    # FastAPI reads the annotation to inject the request; `Request` is imported here, not at
    # module level, so resolve the postponed annotation by hand
    dependency.__annotations__["request"] = Request
    return dependency


def auth_error_handler(app: Any) -> None:
    """Register the `AuthError` → OperationOutcome response on a FastAPI `app`."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthError)
        return JSONResponse(
            exc.operation_outcome(),
            status_code=exc.status,
            headers={"WWW-Authenticate": exc.www_authenticate},
            media_type="application/fhir+json",
        )

    app.add_exception_handler(AuthError, handle)


def auth_config(settings: ServeAuthConfig, base_dir: str | Path, environ: Mapping[str, str] | None = None) -> AuthConfig:
    """The `AuthConfig` of a project's `serve.auth`: the HS256 secret read from the environment
    variable `secret_env` names, the RS256 key file resolved against the project folder and
    checked to be a PEM public key. Raises `ConfigError` naming the key."""
    env = os.environ if environ is None else environ
    secret: str | None = None
    if settings.secret_env is not None:
        name = settings.secret_env
        secret = env.get(name, "")
        if not secret:
            raise ConfigError(
                f"`serve.auth.secret_env`: the environment variable `{name}` is not set; export the HS256 "
                "shared secret (at least 32 characters) in it before starting the server",
                key="serve.auth.secret_env",
            )
        if len(secret) < 32:
            raise ConfigError(
                f"`serve.auth.secret_env`: the secret in `{name}` is shorter than 32 characters; "
                "HS256 needs at least 32 (make one with `openssl rand -hex 32`)",
                key="serve.auth.secret_env",
            )
    key_file: Path | None = None
    if settings.public_key_file is not None:
        key_file = (Path(base_dir) / settings.public_key_file).resolve()
        _check_public_key(key_file)
    return AuthConfig(
        issuer=settings.issuer,
        audience=settings.audience,
        algorithms=settings.algorithms,
        secret=SecretStr(secret) if secret is not None else None,
        public_key_file=key_file,
        leeway_s=settings.leeway_s,
        tenant_claim=settings.tenant_claim,
    )


def _check_public_key(path: Path) -> None:
    key = "serve.auth.public_key_file"
    if not path.is_file():
        raise ConfigError(f"`{key}`: {path} does not exist; point it at the issuer's PEM public key", key=key, file=str(path))
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        raise ConfigError(
            f"`{key}`: {path} holds a private key; give the server only the issuer's public key "
            "(`openssl rsa -in private.pem -pubout -out public.pem`)",
            key=key,
            file=str(path),
        )
    try:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise MissingExtraError("cryptography", "serve") from None
    try:
        public = load_pem_public_key(data)
    except ValueError:
        public = None
    if not isinstance(public, rsa.RSAPublicKey):
        raise ConfigError(
            f"`{key}`: {path} is not an RSA public key in PEM form (`-----BEGIN PUBLIC KEY-----`)", key=key, file=str(path)
        )


_PRINCIPAL = "medlake.principal"


def request_principal(request: Any, config: AuthConfig, tenant: str) -> Principal:
    """The `Principal` of a request's bearer token, checked once per request (kept in its scope)."""
    found = request.scope.get(_PRINCIPAL)
    if isinstance(found, Principal):
        return found
    principal = authenticate(request.headers.get("authorization"), config, tenant)
    request.scope[_PRINCIPAL] = principal
    return principal


ANONYMOUS = "anonymous"


def request_query(request: Any) -> dict[str, list[str]]:
    """What a request asked for, for the audit log's keyed `query_hash`: its path (under `@path`)
    and every query parameter with its values. Hashed before it is stored, never kept."""
    query: dict[str, list[str]] = {"@path": [str(request.url.path)]}
    for name, value in request.query_params.multi_items():
        query.setdefault(name, []).append(value)
    return query


class AuditWriter:
    """The API's audit sink: appends one entry per (request, resource type) to the tenant's log.

    The caller is a `Principal` (a bearer token), or any other object from a custom authorizer
    (its `str` is the `who`, hashed unless it is a plain id), or None: `anonymous`.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def __call__(self, request: Any, principal: object, action: str, resource_type: str, count: int) -> None:
        query = request_query(request)
        if isinstance(principal, Principal):
            event = audit_event(principal, action, resource_type, count, query)
        else:
            who = ANONYMOUS if principal is None else safe_id(str(principal)) or ANONYMOUS
            event = AuditEvent(who=who, action=action, resource_type=resource_type, count=count, query=query)
        self.log.append(event)
