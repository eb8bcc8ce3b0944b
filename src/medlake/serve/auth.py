"""OAuth2 bearer tokens: a signed JWT in, a `Principal` (who, which tenant, which scopes) out.

Each deployment configures one `AuthConfig`: the issuer and audience it trusts and the key
that signs tokens (HS256 with a shared secret, RS256 with the issuer's public key). A token
is valid for exactly one tenant, named by its `tenant` claim; a request for another tenant
gets 403. What the token may do is its SMART scopes (see `medlake.serve.scopes`).

Every failure is an `AuthError` with the HTTP status, a short code, a sentence fit for an
OperationOutcome, and the `WWW-Authenticate` header. Messages carry claim names and
tenants, never token bytes or data. PyJWT is imported only when a token is checked, and
FastAPI only by `bearer_principal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from medlake.errors import MedlakeError, MissingExtraError, Terminal
from medlake.lake.audit import AuditEvent, Query, safe_id
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
        error = "insufficient_scope" if self.code == "insufficient-scope" else "invalid_token"
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
