"""Bearer tokens, SMART scopes, tenant isolation and the audit log, over HTTP.

The lake has two tenants, acme (three patients, 1 + 2 + 3 observations) and globex (two
patients), ingested from FHIR NDJSON written here. Its `medlake.yaml` has a `serve.auth`
section (HS256 with the secret in an environment variable, and RS256 with a key file), so
`create_app(project, tenant)` builds token checks and the audit log from the config, as
`medlake serve` does. Tokens are minted with PyJWT; every refusal's status, OperationOutcome
text and `WWW-Authenticate` header is asserted exactly. Oracle: the lake read through the
`medlake sql` session.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from medlake.config import ProjectConfig, load_config
from medlake.lake.audit import AuditLog, verify
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake, run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET_ENV = "MEDLAKE_TEST_JWT_SECRET"
SECRET = "acme-and-globex-test-secret-0123456789abcdef"
AUD = "https://fhir.example.org"
ISS = "https://auth.example.org"
FHIR_JSON = "application/fhir+json"
PEOPLE = {
    "acme": [("Zebulon", "Quixley"), ("Marguerite", "Okonkwo"), ("Thaddeus", "Brightwater")],
    "globex": [("Ophelia", "Vantablack"), ("Casimir", "Dunmore")],
}
OUTCOME_MISSING = "no bearer token; send `Authorization: Bearer <token>`"


def _ndjson(tenant: str) -> bytes:
    lines: list[dict[str, Any]] = []
    for i, (given, family) in enumerate(PEOPLE[tenant]):
        lines.append({
            "resourceType": "Patient", "id": f"{tenant}-p{i}", "name": [{"family": family, "given": [given]}],
            "gender": "female", "birthDate": f"197{i}-03-0{i + 1}",
        })
        for j in range(i + 1):
            lines.append({
                "resourceType": "Observation", "id": f"{tenant}-o{i}-{j}", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"reference": f"Patient/{tenant}-p{i}"}, "effectiveDateTime": f"2024-01-0{j + 1}T10:00:00Z",
                "valueQuantity": {"value": 60 + j, "unit": "/min"},
            })
    return b"\n".join(orjson.dumps(x) for x in lines) + b"\n"


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes, bytes]:
    """The issuer's RS256 private key, its public key (PEM), and a stranger's private key."""
    key, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    private = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.private_bytes(*private), public, other.private_bytes(*private)


def _build(root: Path, public_pem: bytes) -> ProjectConfig:
    (root / "keys").mkdir(parents=True)
    (root / "keys" / "issuer.pem").write_bytes(public_pem)
    yaml = ["lake: ./lake", "serve:", "  auth:", f"    issuer: {ISS}", f"    audience: {AUD}",
            "    algorithms: [HS256, RS256]", f"    secret_env: {SECRET_ENV}", "    public_key_file: keys/issuer.pem",
            "tenants:"]
    for tenant in PEOPLE:
        (root / tenant).mkdir()
        (root / tenant / "feed.ndjson").write_bytes(_ndjson(tenant))
        yaml += [f"  - name: {tenant}", "    sources:", "      - {name: ehr, kind: fhir, location: ./" + tenant + "/}"]
    (root / "medlake.yaml").write_text("\n".join(yaml) + "\n")
    project = load_config(root / "medlake.yaml")
    for tenant in PEOPLE:
        run(project, tenant, stages=("land", "bronze", "silver"), workers=1)
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, keys: tuple[bytes, bytes, bytes]) -> ProjectConfig:
    return _build(tmp_path_factory.mktemp("two_tenants"), keys[1])


def _client(project: ProjectConfig, tenant: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette asks for httpx2, which is not a dependency
        from fastapi.testclient import TestClient
    from medlake.serve.app import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_ENV, SECRET)  # read once, when the app is built from `serve.auth`
        return TestClient(create_app(project, tenant))


@pytest.fixture(scope="module")
def acme(project: ProjectConfig) -> Iterator[Any]:
    with _client(project, "acme") as c:
        yield c


@pytest.fixture(scope="module")
def globex(project: ProjectConfig) -> Iterator[Any]:
    with _client(project, "globex") as c:
        yield c


@pytest.fixture(scope="module")
def lake(project: ProjectConfig) -> dict[str, Any]:
    """acme as stored: patient ids by family name, observation ids by patient id."""
    con = connect(open_lake(project, "acme"), gold=False)
    try:
        patients = {orjson.loads(r)["name"][0]["family"]: i for i, r in con.execute("SELECT id, resource FROM silver.patient").fetchall()}
        obs: dict[str, list[str]] = {}
        for oid, pid in con.execute("SELECT id, patient_id FROM silver.observation ORDER BY id").fetchall():
            obs.setdefault(pid, []).append(oid)
    finally:
        con.close()
    return {"patients": patients, "obs": obs}


def _token(key: str | bytes = SECRET, alg: str = "HS256", **over: Any) -> dict[str, str]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISS, "aud": AUD, "sub": "clinician-7", "tenant": "acme", "scope": "openid system/*.rs",
        "iat": now, "exp": now + 3600, "jti": "tok-1", "client_id": "app-3",
    }
    claims.update(over)
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=alg)}"}


def _refused(response: Any, status: int) -> str:
    """The OperationOutcome text of a 401/403, after checking its shape."""
    assert response.status_code == status
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    model = importlib.import_module("fhir.resources.R4B.operationoutcome").OperationOutcome
    model.model_validate(body)
    assert body["resourceType"] == "OperationOutcome" and len(body["issue"]) == 1
    return str(body["issue"][0]["details"]["text"])


def _entries(project: ProjectConfig, tenant: str = "acme") -> list[dict[str, Any]]:
    return list(AuditLog(open_lake(project, tenant)).entries())


def _match_ids(body: dict[str, Any], rtype: str) -> list[str]:
    return sorted(e["resource"]["id"] for e in body.get("entry", []) if e["resource"]["resourceType"] == rtype)


def test_a_valid_token_reads_and_metadata_stays_public(acme: Any, lake: dict[str, Any]) -> None:
    pid = lake["patients"]["Okonkwo"]
    r = acme.get(f"/Patient/{pid}", headers=_token())
    assert r.status_code == 200 and r.json()["name"][0]["family"] == "Okonkwo"
    assert acme.get("/metadata").status_code == 200


def test_missing_token_is_401_and_reads_nothing(project: ProjectConfig, acme: Any) -> None:
    before = len(_entries(project))
    r = acme.get("/Patient")
    assert _refused(r, 401) == OUTCOME_MISSING
    assert r.headers["www-authenticate"] == 'Bearer realm="medlake"'
    assert r.json()["issue"][0]["code"] == "login"
    assert "Quixley" not in r.text
    assert len(_entries(project)) == before  # a refused request read no PHI: nothing to audit


@pytest.mark.parametrize(
    ("case", "text", "issue"),
    [
        ("expired", "the bearer token has expired; get a new one", "expired"),
        ("wrong-secret", "the bearer token's signature does not verify with this server's key", "login"),
        ("wrong-rsa-key", "the bearer token's signature does not verify with this server's key", "login"),
        ("wrong-audience", f"the bearer token is not for this server; its `aud` must be `{AUD}`", "login"),
        ("not-a-jwt", "the bearer token is not a JWT (three base64url parts)", "login"),
        ("basic-auth", "the Authorization header is not `Bearer <token>`", "login"),
    ],
)
def test_bad_tokens_are_401_with_exact_outcomes(acme: Any, keys: tuple[bytes, bytes, bytes], case: str, text: str, issue: str) -> None:
    headers = {
        "expired": lambda: _token(exp=int(time.time()) - 3600),
        "wrong-secret": lambda: _token(key="another-secret-of-at-least-32-characters!!"),
        "wrong-rsa-key": lambda: _token(key=keys[2], alg="RS256"),
        "wrong-audience": lambda: _token(aud="https://other.example.org"),
        "not-a-jwt": lambda: {"Authorization": "Bearer abc.def"},
        "basic-auth": lambda: {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    }[case]()
    r = acme.get("/Observation", headers=headers)
    assert _refused(r, 401) == text
    assert r.json()["issue"][0]["code"] == issue
    assert r.headers["www-authenticate"] == f'Bearer realm="medlake", error="invalid_token", error_description="{text.replace(chr(34), chr(39))}"'
    assert "entry" not in r.json()


def test_rs256_token_from_the_configured_key_file_is_accepted(acme: Any, keys: tuple[bytes, bytes, bytes], lake: dict[str, Any]) -> None:
    r = acme.get("/Patient", headers=_token(key=keys[0], alg="RS256"))
    assert r.status_code == 200 and _match_ids(r.json(), "Patient") == sorted(lake["patients"].values())


def test_a_globex_token_is_403_on_acme_and_reveals_nothing(acme: Any, globex: Any, lake: dict[str, Any]) -> None:
    token = _token(tenant="globex", sub="globex-analyst")
    for path in ("/Patient", f"/Patient/{lake['patients']['Quixley']}", "/Observation?_count=100"):
        r = acme.get(path, headers=token)
        assert _refused(r, 403) == "the bearer token is for tenant `globex`, not `acme`"
        assert r.json()["issue"][0]["code"] == "forbidden"
        assert r.headers["www-authenticate"] == (
            'Bearer realm="medlake", error="insufficient_scope", error_description="the bearer token is for tenant `globex`, not `acme`"'
        )
        assert not any(name in r.text for name in ("Quixley", "Okonkwo", "Brightwater", *lake["patients"].values()))
    own = globex.get("/Patient", headers=token)  # the same token on its own tenant's server
    assert own.status_code == 200
    assert sorted(e["resource"]["name"][0]["family"] for e in own.json()["entry"]) == ["Dunmore", "Vantablack"]
    assert _refused(globex.get("/Patient", headers=_token()), 403) == "the bearer token is for tenant `acme`, not `globex`"


def test_patient_scope_sees_only_its_patients_observations(acme: Any, lake: dict[str, Any]) -> None:
    mine, other = lake["patients"]["Okonkwo"], lake["patients"]["Brightwater"]
    token = _token(scope="launch/patient patient/Observation.rs", patient=mine)
    r = acme.get("/Observation", headers=token, params={"_count": 100})
    assert r.status_code == 200
    assert _match_ids(r.json(), "Observation") == lake["obs"][mine] and len(lake["obs"][mine]) == 2
    assert r.json()["total"] == 2
    assert acme.get("/Observation", headers=token, params={"patient": other}).json()["total"] == 0
    theirs = lake["obs"][other][0]
    assert acme.get(f"/Observation/{theirs}", headers=token).status_code == 404
    assert acme.get(f"/Observation/{lake['obs'][mine][0]}", headers=token).status_code == 200
    denied = acme.get(f"/Patient/{other}", headers=token)
    assert _refused(denied, 403) == "the token's scopes do not allow `read` on `Patient`; ask for a scope such as `system/Patient.rs`"
    assert denied.headers["www-authenticate"].startswith('Bearer realm="medlake", error="insufficient_scope"')
    wide = _token(scope="patient/*.rs", patient=mine)  # every type, still only the one compartment
    assert acme.get(f"/Patient/{mine}", headers=wide).status_code == 200
    assert acme.get(f"/Patient/{other}", headers=wide).status_code == 404
    assert _match_ids(acme.get("/Patient", headers=wide).json(), "Patient") == [mine]


def test_patient_scope_without_a_patient_claim_is_401(acme: Any) -> None:
    text = "the bearer token has `patient/` scopes but no `patient` claim"
    assert _refused(acme.get("/Observation", headers=_token(scope="patient/Observation.rs")), 401) == text


def test_system_patient_scope_cannot_search_observations(acme: Any, lake: dict[str, Any]) -> None:
    token = _token(scope="system/Patient.rs")
    assert _match_ids(acme.get("/Patient", headers=token).json(), "Patient") == sorted(lake["patients"].values())
    r = acme.get("/Observation", headers=token)
    assert _refused(r, 403) == "the token's scopes do not allow `search` on `Observation`; ask for a scope such as `system/Observation.rs`"
    inc = acme.get("/Patient", headers=token, params={"_revinclude": "Observation:subject"})
    assert _refused(inc, 403) == "the token's scopes do not allow `search` on `Observation`; ask for a scope such as `system/Observation.rs`"
    everything = acme.get(f"/Patient/{lake['patients']['Quixley']}/$everything", headers=token)
    assert _refused(everything, 403).startswith("the token's scopes do not allow `search` on ")


def test_every_successful_read_and_search_is_audited(project: ProjectConfig, acme: Any, lake: dict[str, Any]) -> None:
    pid = lake["patients"]["Brightwater"]
    token = _token(sub="clinician-9", jti="tok-42", client_id="app-7")
    expected = [
        (f"/Patient/{pid}", {}, [("read", "Patient", 1)]),
        ("/Observation", {"patient": pid, "_count": 100}, [("search", "Observation", 3)]),
        ("/Observation", {"patient": pid, "_include": "Observation:patient"}, [("search", "Observation", 3), ("search", "Patient", 1)]),
        ("/Patient", {"family": "Nobody"}, [("search", "Patient", 0)]),
        (f"/Observation/{lake['obs'][pid][0]}/_history", {}, [("history", "Observation", 1)]),
        (f"/Patient/{pid}/$everything", {}, [("everything", "Observation", 3), ("everything", "Patient", 1)]),
    ]
    for path, params, actions in expected:
        before = len(_entries(project))
        assert acme.get(path, headers=token, params=params).status_code == 200
        new = _entries(project)[before:]
        assert [(e["action"], e["resource_type"], e["count"]) for e in new] == actions
        for e in new:
            assert (e["tenant"], e["who"], e["token"], e["client"]) == ("acme", "clinician-9", "tok-42", "app-7")
            assert len(e["query_hash"]) == 64
    on_disk = b"".join(p.read_bytes() for p in AuditLog(open_lake(project, "acme")).files())
    assert b"Brightwater" not in on_disk and b"Nobody" not in on_disk and pid.encode() not in on_disk
    result = verify(open_lake(project, "acme"))
    assert result.ok and result.entries == len(_entries(project))
    assert all(e["tenant"] == "globex" for e in _entries(project, "globex"))  # each tenant its own log


def test_equal_queries_have_equal_hashes_and_others_differ(project: ProjectConfig, acme: Any) -> None:
    for family in ("Okonkwo", "Okonkwo", "Quixley"):
        acme.get("/Patient", headers=_token(), params={"family": family})
    a, b, c = _entries(project)[-3:]
    assert a["query_hash"] == b["query_hash"] != c["query_hash"]


def test_audit_verify_cli_passes_on_the_served_log(project: ProjectConfig, acme: Any) -> None:
    from medlake.cli.main import app

    acme.get("/Patient", headers=_token())
    n = len(_entries(project))
    out = CliRunner().invoke(app, ["audit", "verify", "-c", str(Path(project.base_dir) / "medlake.yaml"), "--tenant", "acme"])
    last = _entries(project)[-1]
    files = _files(len(AuditLog(open_lake(project, "acme")).files()))
    assert out.exit_code == 0, out.output
    assert out.output == f"audit log of tenant acme: {n} entries in {files}, chain intact; last seq {n}, hash {last['hash']}\n"


def _files(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"  # a run across midnight UTC writes two day files


@pytest.fixture()
def copy(project: ProjectConfig, tmp_path: Path) -> ProjectConfig:
    """A copy of the whole project (lake and audit log), for tests that break it."""
    shutil.copytree(project.base_dir, tmp_path / "p")
    return load_config(tmp_path / "p" / "medlake.yaml")


def test_a_tampered_audit_line_is_found_by_verify(copy: ProjectConfig, keys: tuple[bytes, bytes, bytes]) -> None:
    from medlake.cli.main import app

    with _client(copy, "acme") as c:
        for _ in range(3):
            assert c.get("/Patient", headers=_token(sub="reader-1")).status_code == 200
    log = AuditLog(open_lake(copy, "acme"))
    assert verify(log.lake).ok
    path = log.files()[-1]
    lines = path.read_bytes().splitlines(keepends=True)
    target = len(lines) - 2  # an entry in the middle of the chain: the one before last
    seq = orjson.loads(lines[target])["seq"]
    lines[target] = lines[target].replace(b'"who":"reader-1"', b'"who":"reader-2"', 1)  # one byte
    path.write_bytes(b"".join(lines))
    result = verify(log.lake)
    assert result.broken is not None and result.entries == seq - 1
    assert (result.broken.file, result.broken.line, result.broken.seq) == (f"_meta/audit/{path.name}", target + 1, seq)
    assert result.broken.reason == "hash does not match the entry's content (the entry was edited)"
    out = CliRunner().invoke(app, ["audit", "verify", "-c", str(Path(copy.base_dir) / "medlake.yaml"), "--tenant", "acme"])
    assert out.exit_code == 1
    assert out.output.splitlines()[:2] == [
        f"audit log of tenant acme: BROKEN after {seq - 1} good entries in {_files(len(log.files()))}",
        f"first bad entry: {result.broken.describe()}",
    ]


def test_a_failed_audit_write_fails_the_request(copy: ProjectConfig, lake: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    pid = lake["patients"]["Quixley"]
    with _client(copy, "acme") as c:
        assert c.get(f"/Patient/{pid}", headers=_token()).status_code == 200
        path = AuditLog(open_lake(copy, "acme")).files()[-1]
        path.write_bytes(path.read_bytes() + b'{"seq": 99, "at": "20')  # a tail cut off by a crash
        with caplog.at_level(logging.ERROR, logger="medlake.serve"):
            r = c.get(f"/Patient/{pid}", headers=_token())
    assert r.status_code == 500 and r.headers["content-type"] == FHIR_JSON
    assert r.json() == {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "exception",
        "diagnostics": "the access could not be written to the audit log, so nothing was returned; the error is in the server's log",
    }]}
    assert "Quixley" not in r.text
    assert f"audit write failed (read Patient, 1 resources), response withheld: LakeError: the audit log's last entry ({path.name}) is cut off" in caplog.text


def test_server_log_has_no_names_query_values_or_tokens(acme: Any, caplog: pytest.LogCaptureFixture) -> None:
    token = _token()
    with caplog.at_level(logging.DEBUG):
        ok = acme.get("/Patient", headers=token, params={"name": "Quixley", "birthdate": "1970-03-01"})
        acme.get("/Patient", headers={"Authorization": "Bearer not.a.token"}, params={"family": "Okonkwo"})
    assert ok.status_code == 200 and ok.json()["total"] == 1
    # the test's HTTP client (httpx) logs the URLs it sends; everything else is the server's
    server = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "medlake.serve GET /Patient -> 200" in server and "medlake.serve GET /Patient -> 401" in server
    for secret in ("Quixley", "Okonkwo", "Zebulon", "1970-03-01", token["Authorization"][7:], "not.a.token", SECRET):
        assert secret not in server
