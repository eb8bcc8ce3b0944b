"""The project's `serve:` section: bad blocks refused with exact messages at load, the secret
and key file checked when the server starts (`auth_config`), and `medlake serve` refusing to
run without authentication unless told to (`--no-auth`, loopback only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from medlake.config import ServeAuthConfig, load_config, parse_config
from medlake.errors import ConfigError
from medlake.serve.auth import AuthConfig, auth_config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HEAD = "lake: ./lake\ntenants:\n  - name: acme\nserve:\n"
SECRET = "s" * 32


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n    secret: hunter2hunter2hunter2hunter2hunter2\n",
            "medlake.yaml:5: `serve.auth`: a secret must not sit in the project file; put it in an environment "
            "variable and name that in `secret_env` (e.g. `secret_env: MEDLAKE_JWT_SECRET`)",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n",
            "medlake.yaml:5: `serve.auth`: algorithm HS256 needs `secret_env`: the environment variable that holds the shared secret",
        ),
        (
            "  auth:\n    audience: x\n",
            "medlake.yaml:5: `serve.auth`: algorithm RS256 needs `public_key_file`: the issuer's PEM public key, relative to this file",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: []\n",
            "medlake.yaml:5: `serve.auth`: `algorithms` is empty; list HS256, RS256 or both",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS512]\n    secret_env: A\n",
            "medlake.yaml:7: `serve.auth.algorithms[0]`: Input should be 'HS256' or 'RS256'; got `HS512`",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n    secret_env: 'c2VjcmV0IHZhbHVl=='\n",
            "medlake.yaml:8: `serve.auth.secret_env`: must be the name of an environment variable (letters, digits "
            "and `_`), not the secret itself",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n    secret_env: A\n    public_key_file: k.pem\n",
            "medlake.yaml:5: `serve.auth`: `public_key_file` is set but `algorithms` has no RS256; add RS256 or remove `public_key_file`",
        ),
        (
            "  auth:\n    audience: x\n    public_key_file: k.pem\n    secret_env: A\n",
            "medlake.yaml:5: `serve.auth`: `secret_env` is set but `algorithms` has no HS256; add HS256 or remove `secret_env`",
        ),
        (
            "  auth:\n    algorithms: [HS256]\n    secret_env: A\n",
            "medlake.yaml:5: `serve.auth.audience`: Field required",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n    secret_env: A\n    leeway_s: 700\n",
            "medlake.yaml:9: `serve.auth.leeway_s`: Input should be less than or equal to 600",
        ),
        (
            "  auth:\n    audience: x\n    algorithms: [HS256]\n    secrt_env: A\n",
            "medlake.yaml:8: `serve.auth.secrt_env`: unknown key `secrt_env`; did you mean `secret_env`? Allowed keys: "
            "issuer, audience, algorithms, secret_env, public_key_file, leeway_s, tenant_claim",
        ),
        (
            "  allow_anonymous: true\n  auth:\n    audience: x\n    algorithms: [HS256]\n    secret_env: A\n",
            "medlake.yaml:4: `serve`: `allow_anonymous: true` and `auth` exclude each other; remove `allow_anonymous` "
            "to require tokens, or `auth` to serve without them (development only)",
        ),
        (
            "  allow_anonymus: true\n",
            "medlake.yaml:5: `serve.allow_anonymus`: unknown key `allow_anonymus`; did you mean `allow_anonymous`? "
            "Allowed keys: auth, allow_anonymous",
        ),
    ],
)
def test_bad_serve_blocks_are_refused_with_exact_messages(block: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(HEAD + block)
    assert e.value.message == message
    assert "hunter2" not in e.value.message and "c2VjcmV0" not in e.value.message  # a misplaced secret is never echoed


def test_serve_defaults_to_no_auth_and_no_anonymous() -> None:
    serve = parse_config("tenants: [{name: acme}]\n").serve
    assert serve.auth is None and serve.allow_anonymous is False


def _hs(**over: Any) -> ServeAuthConfig:
    return ServeAuthConfig(**{"audience": "https://fhir.example.org", "algorithms": ("HS256",), "secret_env": "JWT_SECRET", **over})


def test_the_hs256_secret_comes_from_the_environment(tmp_path: Path) -> None:
    config = auth_config(_hs(issuer="https://auth.example.org", leeway_s=5), tmp_path, {"JWT_SECRET": SECRET})
    assert config == AuthConfig(
        issuer="https://auth.example.org", audience="https://fhir.example.org", algorithms=("HS256",), secret=SECRET, leeway_s=5
    )
    assert config.key_for("HS256") == SECRET


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "`serve.auth.secret_env`: the environment variable `JWT_SECRET` is not set; export the HS256 shared "
             "secret (at least 32 characters) in it before starting the server"),
        ({"JWT_SECRET": ""}, "`serve.auth.secret_env`: the environment variable `JWT_SECRET` is not set; export the HS256 "
                             "shared secret (at least 32 characters) in it before starting the server"),
        ({"JWT_SECRET": "short-secret"}, "`serve.auth.secret_env`: the secret in `JWT_SECRET` is shorter than 32 characters; "
                                         "HS256 needs at least 32 (make one with `openssl rand -hex 32`)"),
    ],
)
def test_a_missing_or_short_secret_is_refused(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        auth_config(_hs(), tmp_path, environ)
    assert e.value.message == message and e.value.key == "serve.auth.secret_env"
    assert "short-secret" not in e.value.message


def _rs(path: str = "keys/issuer.pem") -> ServeAuthConfig:
    return ServeAuthConfig(audience="a", algorithms=("RS256",), public_key_file=path)


def test_the_rs256_key_file_is_relative_to_the_project(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "keys").mkdir()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "keys" / "issuer.pem").write_bytes(pem)
    config = auth_config(_rs(), tmp_path, {})
    assert config.public_key_file == (tmp_path / "keys" / "issuer.pem").resolve()
    assert config.key_for("RS256") == pem.decode()


def test_bad_key_files_are_refused(tmp_path: Path) -> None:
    where = (tmp_path / "keys" / "issuer.pem").resolve()
    with pytest.raises(ConfigError) as e:
        auth_config(_rs(), tmp_path, {})
    assert e.value.message == f"`serve.auth.public_key_file`: {where} does not exist; point it at the issuer's PEM public key"
    where.parent.mkdir()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for content, message in (
        (private, f"`serve.auth.public_key_file`: {where} holds a private key; give the server only the issuer's public key "
                  "(`openssl rsa -in private.pem -pubout -out public.pem`)"),
        (b"not a key\n", f"`serve.auth.public_key_file`: {where} is not an RSA public key in PEM form (`-----BEGIN PUBLIC KEY-----`)"),
        (ec_public, f"`serve.auth.public_key_file`: {where} is not an RSA public key in PEM form (`-----BEGIN PUBLIC KEY-----`)"),
    ):
        where.write_bytes(content)
        with pytest.raises(ConfigError) as e:
            auth_config(_rs(), tmp_path, {})
        assert e.value.message == message


def _project(tmp_path: Path, serve: str = "") -> Path:
    path = tmp_path / "medlake.yaml"
    path.write_text("lake: ./lake\ntenants:\n  - name: acme\n" + serve)
    return path


def test_create_app_refuses_a_secret_that_is_not_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medlake.serve.app import create_app

    monkeypatch.delenv("JWT_SECRET", raising=False)
    path = _project(tmp_path, "serve:\n  auth: {audience: x, algorithms: [HS256], secret_env: JWT_SECRET}\n")
    with pytest.raises(ConfigError, match=r"^`serve.auth.secret_env`: the environment variable `JWT_SECRET` is not set;"):
        create_app(load_config(path), "acme")


class _FakeUvicorn:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, app: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture()
def uvicorn(monkeypatch: pytest.MonkeyPatch) -> _FakeUvicorn:
    """`medlake serve` up to the point where uvicorn would start listening."""
    from medlake.serve import _web

    fake = _FakeUvicorn()
    monkeypatch.setattr(_web, "uvicorn", lambda: fake)
    return fake


def _serve(path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    from medlake.cli.main import app

    return CliRunner().invoke(app, ["serve", "-c", str(path), *args], env=env)


def test_serve_refuses_to_start_without_auth(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    path = _project(tmp_path)
    out = _serve(path)
    assert out.exit_code == 2 and uvicorn.calls == []
    assert " ".join(out.output.split()) == (
        f"error: {path}: no authentication is configured, so the server will not start; add a `serve.auth` section "
        "(see docs/security.md), or pass `--no-auth` to serve without tokens on this machine (development only)"
    )


def test_no_auth_is_loopback_only(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    out = _serve(_project(tmp_path), "--no-auth", "--host", "0.0.0.0")
    assert out.exit_code == 2 and uvicorn.calls == []
    assert "`--no-auth` listens on loopback only (127.0.0.1, ::1, localhost), not `0.0.0.0`; configure `serve.auth` to serve other hosts" in " ".join(out.output.split())


def test_no_auth_runs_with_a_loud_warning(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    path = _project(tmp_path)
    out = _serve(path, "--no-auth", "--port", "8099")
    assert out.exit_code == 0, out.output
    lines = [" ".join(line.split()) for line in out.output.splitlines()]
    assert lines == [
        "WARNING: authentication is OFF: every caller can read every resource of tenant acme. Development only.",
        "FHIR R4 API for tenant acme on http://127.0.0.1:8099/metadata",
        "auth: none (--no-auth)",
        f"audit log: {(tmp_path / 'lake').resolve()}/acme/_meta/audit/ (check it with `medlake audit verify`)",
    ]
    assert uvicorn.calls == [{"host": "127.0.0.1", "port": 8099, "access_log": False, "log_level": "info"}]


def test_serve_prints_its_token_settings(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    path = _project(tmp_path, "serve:\n  auth:\n    issuer: https://auth.example.org\n    audience: https://fhir.example.org\n"
                              "    algorithms: [HS256]\n    secret_env: JWT_SECRET\n")
    out = _serve(path, env={"JWT_SECRET": SECRET})
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[1] == (
        "auth: bearer tokens (HS256 secret from $JWT_SECRET), audience `https://fhir.example.org`, issuer "
        "`https://auth.example.org`, tenant claim `tenant`"
    )
    assert SECRET not in out.output
    missing = _serve(path, env={"JWT_SECRET": ""})
    assert missing.exit_code == 2 and "the environment variable `JWT_SECRET` is not set" in missing.output


def test_allow_anonymous_in_the_file_serves_without_tokens(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    out = _serve(_project(tmp_path, "serve:\n  allow_anonymous: true\n"), "--host", "0.0.0.0")
    assert out.exit_code == 0, out.output
    assert "auth: none (serve.allow_anonymous)" in out.output.splitlines()
    assert out.output.startswith("WARNING: authentication is OFF: every caller can read every resource of tenant acme.")


def test_no_auth_overrides_a_configured_auth_and_says_so(tmp_path: Path, uvicorn: _FakeUvicorn) -> None:
    path = _project(tmp_path, "serve:\n  auth: {audience: x, algorithms: [HS256], secret_env: JWT_SECRET}\n")
    out = _serve(path, "--no-auth", env={"JWT_SECRET": ""})  # the secret is not needed, so not read
    assert out.exit_code == 0, out.output
    assert " ".join(out.output.splitlines()[0].split()) == (
        "WARNING: authentication is OFF (`serve.auth` in the project file is ignored): every caller can read every "
        "resource of tenant acme. Development only."
    )
    assert "auth: none (--no-auth)" in out.output.splitlines()
