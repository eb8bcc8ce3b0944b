"""Bulk Data `$export` over HTTP: kick-off, status, manifest, NDJSON files, cancellation, errors.

The lake is a copy of the serve tests' synthetic lake with one Group written into silver
(recorded a day after everything else, so `_since` can pick it out). Expected contents come
from the lake itself, read through the `medlake sql` session.
"""

from __future__ import annotations

import importlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from medlake.config import ProjectConfig, load_config
from medlake.lake.catalog import connect
from medlake.pipeline import open_lake
from medlake.silver import store as silver_store
from medlake.silver.history import iso
from medlake.silver.schema import table_name

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

TENANT = "demo"
FHIR_JSON = "application/fhir+json"
ASYNC = {"Prefer": "respond-async", "Accept": FHIR_JSON, "Authorization": "Bearer alice"}
GROUP_ID = "group-1"


@dataclass
class Env:
    project: ProjectConfig
    client: Any
    app: Any
    sql: Any
    audited: list[tuple[str, str, int, object]]
    members: list[str]  # active Patient members of the Group
    group_time: datetime

    @property
    def jobs(self) -> Any:
        return self.app.state.bulk.jobs

    def rows(self, sql: str, values: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return list(self.sql.execute(sql, values or []).fetchall())


def _auth(request: Any, resource_type: str, interaction: str) -> Any:
    """`Bearer <name>` or `Bearer <name>:<patient id>` (a patient-context token)."""
    from medlake.serve.app import Access
    from medlake.serve.outcome import ApiError

    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        raise ApiError(401, "login", "a bearer token is required")
    name, _, patient = header.removeprefix("Bearer ").partition(":")
    return Access(name, patient or None)


def _app(project: ProjectConfig, audited: list[tuple[str, str, int, object]]) -> Any:
    from medlake.serve.app import create_app

    def audit(request: Any, principal: object, action: str, resource_type: str, count: int) -> None:
        audited.append((action, resource_type, count, principal))

    return create_app(project, TENANT, auth=_auth, audit=audit)


def _write_group(project: ProjectConfig, members: list[str], inactive: str, when: datetime) -> None:
    resource = {
        "resourceType": "Group", "id": GROUP_ID, "type": "person", "actual": True,
        "member": [{"entity": {"reference": f"Patient/{m}"}} for m in members]
        + [{"entity": {"reference": f"Patient/{inactive}"}, "inactive": True}, {"entity": {"reference": "Device/d-1"}}],
    }
    record = silver_store.SilverRecord(GROUP_ID, "Group", resource, None, "cohorts", "urn:test:cohorts", GROUP_ID,
                                       "0" * 64, "cohort.json", 0, "test-batch")
    silver_store.write(open_lake(project, TENANT), TENANT, [record], reason="initial", now=when)


@pytest.fixture(scope="module")
def env(project: ProjectConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    copy = tmp_path_factory.mktemp("bulk") / "project"
    shutil.copytree(project.base_dir, copy)
    config = load_config(copy / "medlake.yaml")
    sql = connect(open_lake(config, TENANT), gold=False)
    patients = [r[0] for r in sql.execute("SELECT id FROM silver.patient ORDER BY id").fetchall()]
    latest = sql.execute("SELECT max(last_updated) FROM silver.observation").fetchone()[0]
    sql.close()
    group_time = latest + timedelta(days=1)
    _write_group(config, patients[:3], patients[3], group_time)
    sql = connect(open_lake(config, TENANT), gold=False)
    audited: list[tuple[str, str, int, object]] = []
    app = _app(config, audited)
    with TestClient(app) as client:
        yield Env(config, client, app, sql, audited, patients[:3], group_time)
    sql.close()


def _validate(res: dict[str, Any]) -> None:
    rtype = res["resourceType"]
    getattr(importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}"), rtype).model_validate(res)


def _outcome(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    _validate(body)
    return str(body["issue"][0]["diagnostics"])


def _kickoff(env: Env, url: str, headers: dict[str, str] | None = None, **params: Any) -> str:
    r = env.client.get(url, params=params, headers=headers or ASYNC)
    assert r.status_code == 202, r.text
    status_url = r.headers["Content-Location"]
    assert status_url.startswith("http://testserver/$export-status/")
    assert _outcome(r, 202) == f"export job {status_url.rsplit('/', 1)[-1]} accepted; poll {status_url}"
    return str(status_url)


def _export(env: Env, url: str, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    """Kick off, wait for the worker, and return the manifest."""
    status_url = _kickoff(env, url, headers, **params)
    assert env.jobs.wait_idle(60)
    r = env.client.get(status_url, headers=headers or ASYNC)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    manifest: dict[str, Any] = r.json()
    manifest["_status"] = status_url
    return manifest


def _download(env: Env, manifest: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Type → the resources of every file, in file order (each line checked to be one resource)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        r = env.client.get(item["url"], headers=headers or ASYNC)
        assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+ndjson"
        lines = r.content.split(b"\n")
        assert lines[-1] == b""  # every line ends with a newline
        resources = [orjson.loads(line) for line in lines[:-1]]
        assert len(resources) == item["count"]
        assert {res["resourceType"] for res in resources} == {item["type"]}
        out.setdefault(item["type"], []).extend(resources)
    return out


def _types(env: Env) -> list[str]:
    return list(env.app.state.store.types)


def _expected(env: Env, rtype: str, where: str = "TRUE", values: list[Any] | None = None) -> list[str]:
    return [r[0] for r in env.rows(f"SELECT id FROM silver.{table_name(rtype)} WHERE {where} ORDER BY id", values)]


# ------------------------------------------------------------------------ kick-off and files


def test_system_export_writes_every_type_and_each_resource_validates(env: Env) -> None:
    env.audited.clear()
    manifest = _export(env, "/$export")
    assert manifest["request"] == "http://testserver/$export"
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert datetime.fromisoformat(manifest["transactionTime"]).tzinfo is not None
    assert manifest["transactionTime"].endswith("Z")
    job = manifest["_status"].rsplit("/", 1)[-1]
    assert [o["url"] for o in manifest["output"]] == [
        f"http://testserver/$export-file/{job}/{o['type']}.1.ndjson" for o in manifest["output"]
    ]
    assert env.audited == []  # nothing left the server yet: the files are audited when downloaded
    files = _download(env, manifest)
    assert env.audited == [("export", o["type"], o["count"], "alice") for o in manifest["output"]]
    assert list(files) == _types(env) and "Group" in files
    for rtype, resources in files.items():
        assert [r["id"] for r in resources] == _expected(env, rtype), rtype
        for res in resources:
            _validate(res)
    # each line is what the API answers for that resource (meta.lastUpdated included)
    for rtype in ("Patient", "Observation", "Group"):
        first = files[rtype][0]
        assert env.client.get(f"/{rtype}/{first['id']}", headers=ASYNC).json() == first


def test_large_types_are_split_into_files_of_at_most_n_resources(env: Env) -> None:
    bulk = env.app.state.bulk
    saved = bulk.settings
    bulk.settings = replace(saved, max_resources_per_file=7)
    try:
        manifest = _export(env, "/$export", _type="Observation,Patient")
    finally:
        bulk.settings = saved
    n_obs, n_pat = len(_expected(env, "Observation")), len(_expected(env, "Patient"))
    counts = [(o["type"], o["url"].rsplit("/", 1)[-1], o["count"]) for o in manifest["output"]]
    assert counts == [("Observation", f"Observation.{k + 1}.ndjson", min(7, n_obs - 7 * k)) for k in range(-(-n_obs // 7))] + [
        ("Patient", f"Patient.{k + 1}.ndjson", min(7, n_pat - 7 * k)) for k in range(-(-n_pat // 7))
    ]
    files = _download(env, manifest)
    assert [r["id"] for r in files["Observation"]] == _expected(env, "Observation")


def test_type_limits_and_orders_the_output(env: Env) -> None:
    manifest = _export(env, "/$export", _type="Patient,Condition,Patient")
    assert [o["type"] for o in manifest["output"]] == ["Patient", "Condition"]
    assert manifest["request"] == "http://testserver/$export?_type=Patient%2CCondition%2CPatient"


def test_since_keeps_resources_updated_after_it(env: Env) -> None:
    later = _export(env, "/$export", _since=iso(env.group_time - timedelta(hours=1)))
    assert [(o["type"], o["count"]) for o in later["output"]] == [("Group", 1)]
    cut = env.rows("SELECT quantile_disc(last_updated, 0.5) FROM silver.observation")[0][0].astimezone(UTC)
    manifest = _export(env, "/$export", _type="Observation,Patient", _since=cut.isoformat())  # `+00:00` form
    files = _download(env, manifest)
    assert [r["id"] for r in files.get("Observation", [])] == _expected(env, "Observation", "last_updated > ?", [cut])
    assert [r["id"] for r in files.get("Patient", [])] == _expected(env, "Patient", "last_updated > ?", [cut])
    none = _export(env, "/$export", _since="2999-01-01T00:00:00Z")
    assert none["output"] == []


def test_unencoded_plus_in_since_is_read_as_a_zone(env: Env) -> None:
    r = env.client.get("/$export?_type=Group&_since=2000-01-01T05:00:00+05:00", headers=ASYNC)  # `+` arrives as a space
    assert r.status_code == 202
    assert env.jobs.wait_idle(60)
    assert [o["type"] for o in env.client.get(r.headers["Content-Location"], headers=ASYNC).json()["output"]] == ["Group"]


def test_patient_export_is_every_patient_compartment(env: Env) -> None:
    files = _download(env, _export(env, "/Patient/$export"))
    for rtype in _types(env):
        expected = _expected(env, rtype) if rtype == "Patient" else _expected(env, rtype, "patient_id IS NOT NULL")
        assert [r["id"] for r in files.get(rtype, [])] == expected, rtype
    assert "Organization" not in files and "Group" not in files


def test_group_export_is_its_active_patient_members(env: Env) -> None:
    files = _download(env, _export(env, f"/Group/{GROUP_ID}/$export"))
    assert [r["id"] for r in files["Patient"]] == sorted(env.members)
    for rtype in _types(env):
        if rtype != "Patient":
            expected = _expected(env, rtype, "list_contains(?, patient_id)", [env.members])
            assert [r["id"] for r in files.get(rtype, [])] == expected, rtype
    assert sum(len(v) for v in files.values()) > len(env.members)


def test_post_kickoff_takes_a_parameters_body(env: Env) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Patient"}, {"name": "_type", "valueString": "Group"},
        {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
        {"name": "_since", "valueInstant": "2000-01-01T00:00:00Z"},
    ]}
    r = env.client.post(f"/Group/{GROUP_ID}/$export", content=orjson.dumps(body), headers={**ASYNC, "Content-Type": FHIR_JSON})
    assert r.status_code == 202, r.text
    assert env.jobs.wait_idle(60)
    manifest = env.client.get(r.headers["Content-Location"], headers=ASYNC).json()
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [("Patient", len(env.members))]


def test_a_patient_context_token_exports_only_its_compartment(env: Env) -> None:
    pid = env.members[0]
    token = {**ASYNC, "Authorization": f"Bearer carol:{pid}"}
    files = _download(env, _export(env, "/$export", token), token)
    assert [r["id"] for r in files["Patient"]] == [pid]
    for rtype, resources in files.items():
        if rtype != "Patient":
            assert [r["id"] for r in resources] == _expected(env, rtype, "patient_id = ?", [pid]), rtype


def test_capability_statement_names_the_export_operations(env: Env) -> None:
    cap = env.client.get("/metadata").json()
    _validate(cap)
    base = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
    assert {"name": "export", "definition": f"{base}/export"} in cap["rest"][0]["operation"]
    ops = {r["type"]: r.get("operation", []) for r in cap["rest"][0]["resource"]}
    assert {"name": "export", "definition": f"{base}/patient-export"} in ops["Patient"]
    assert ops["Group"] == [{"name": "export", "definition": f"{base}/group-export"}]


# ------------------------------------------------------------------ status, owners, cancel


def test_only_the_client_that_started_a_job_polls_cancels_or_downloads_it(env: Env) -> None:
    manifest = _export(env, "/$export", _type="Group")
    bob = {**ASYNC, "Authorization": "Bearer bob"}
    job = manifest["_status"].rsplit("/", 1)[-1]
    other = f"export job `{job}` was started by another client; only the client that started it may poll, cancel or download it"
    assert _outcome(env.client.get(manifest["_status"], headers=bob), 403) == other
    assert _outcome(env.client.delete(manifest["_status"], headers=bob), 403) == other
    env.audited.clear()
    assert _outcome(env.client.get(manifest["output"][0]["url"], headers=bob), 403) == other
    assert _outcome(env.client.get(manifest["output"][0]["url"]), 401) == "a bearer token is required"
    assert env.audited == []
    assert env.client.get(manifest["_status"], headers=ASYNC).status_code == 200


def test_a_queued_job_reports_progress_and_is_cancelled(env: Env) -> None:
    env.jobs.pause()
    try:
        status_url = _kickoff(env, "/$export")
        r = env.client.get(status_url, headers=ASYNC)
        assert r.status_code == 202 and r.headers["X-Progress"] == "queued" and r.headers["Retry-After"] == "1"
        job = status_url.rsplit("/", 1)[-1]
        assert _outcome(env.client.delete(status_url, headers=ASYNC), 202) == f"export job {job}: it was cancelled"
        assert not (Path(env.project.lake_uri()) / TENANT / "_meta" / "exports" / job).exists()
    finally:
        env.jobs.resume()
    assert env.jobs.wait_idle(60)
    assert _outcome(env.client.get(status_url, headers=ASYNC), 404).startswith(f"export job `{job}` is not on this server")


def test_a_running_job_is_cancelled_after_its_current_file(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    files = env.jobs.files
    written, go = threading.Event(), threading.Event()
    plain = files.write

    def held(job_id: str, name: str, data: bytes) -> None:
        plain(job_id, name, data)
        written.set()
        go.wait(30)

    monkeypatch.setattr(files, "write", held)
    bulk = env.app.state.bulk
    saved = bulk.settings
    bulk.settings = replace(saved, max_resources_per_file=10)
    try:
        status_url = _kickoff(env, "/$export", _type="Observation")
        assert written.wait(30)
        r = env.client.get(status_url, headers=ASYNC)
        assert r.status_code == 202 and r.headers["X-Progress"] == "exporting Observation (type 1 of 1), 0 resources written"
        job = status_url.rsplit("/", 1)[-1]
        file_url = f"http://testserver/$export-file/{job}/Observation.1.ndjson"
        assert _outcome(env.client.get(file_url, headers=ASYNC), 404).endswith("take the file URLs from the job's manifest")
        assert _outcome(env.client.delete(status_url, headers=ASYNC), 202) == f"export job {job}: it was cancelled"
    finally:
        go.set()
        bulk.settings = saved
    assert env.jobs.wait_idle(60)
    assert env.client.get(status_url, headers=ASYNC).status_code == 404
    assert not (Path(env.project.lake_uri()) / TENANT / "_meta" / "exports" / job).exists()


def test_deleting_a_finished_job_removes_its_files(env: Env) -> None:
    manifest = _export(env, "/$export", _type="Group")
    job = manifest["_status"].rsplit("/", 1)[-1]
    folder = Path(env.project.lake_uri()) / TENANT / "_meta" / "exports" / job
    assert sorted(p.name for p in folder.iterdir()) == ["Group.1.ndjson", "job.json"]
    assert _outcome(env.client.delete(manifest["_status"], headers=ASYNC), 202) == f"export job {job}: its files were removed"
    assert not folder.exists()
    assert env.client.get(manifest["output"][0]["url"], headers=ASYNC).status_code == 404


def test_finished_jobs_expire_after_the_ttl(env: Env) -> None:
    manifest = _export(env, "/$export", _type="Group")
    bulk = env.app.state.bulk
    saved = bulk.settings
    bulk.settings = replace(saved, ttl_seconds=0)
    try:
        message = _outcome(env.client.get(manifest["_status"], headers=ASYNC), 404)
    finally:
        bulk.settings = saved
    job = manifest["_status"].rsplit("/", 1)[-1]
    assert message == (f"export job `{job}` is not on this server: it never was, was cancelled, or expired 0 h after it "
                       "finished; kick off a new export")
    assert not (Path(env.project.lake_uri()) / TENANT / "_meta" / "exports" / job).exists()


def test_too_many_active_jobs_are_refused(env: Env) -> None:
    bulk = env.app.state.bulk
    saved = bulk.settings
    bulk.settings = replace(saved, max_active_jobs=1)
    env.jobs.pause()
    try:
        status_url = _kickoff(env, "/$export", _type="Group")
        r = env.client.get("/$export", headers=ASYNC)
        assert _outcome(r, 429) == "1 exports are queued or running; wait for one to finish (or cancel one) and kick off again"
        env.client.delete(status_url, headers=ASYNC)
    finally:
        env.jobs.resume()
        bulk.settings = saved
    assert env.jobs.wait_idle(60)


def test_a_job_that_fails_answers_500_and_the_log_names_only_the_error_type(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from medlake.serve import bulk_jobs

    def broken(rows: list[tuple[str, Any]]) -> bytes:
        raise RuntimeError(rows[0][0])  # the message holds a resource: it must not reach the log

    monkeypatch.setattr(bulk_jobs, "ndjson", broken)
    with caplog.at_level("INFO", logger="medlake.serve.bulk"):
        status_url = _kickoff(env, "/$export", _type="Patient")
        assert env.jobs.wait_idle(60)
    job = status_url.rsplit("/", 1)[-1]
    assert _outcome(env.client.get(status_url, headers=ASYNC), 500) == (
        f"export job {job}: the export failed (RuntimeError); the error is in the server log"
    )
    assert f"export {job} failed: RuntimeError" in caplog.text
    assert "resourceType" not in caplog.text
    assert env.client.delete(status_url, headers=ASYNC).status_code == 202


def test_jobs_survive_a_restart_and_interrupted_ones_fail(env: Env) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    manifest = _export(env, "/$export", _type="Group")
    exports = Path(env.project.lake_uri()) / TENANT / "_meta" / "exports"
    stuck = "f" * 32  # a job the previous server was running when it stopped
    state = orjson.loads((exports / manifest["_status"].rsplit("/", 1)[-1] / "job.json").read_bytes())
    (exports / stuck).mkdir()
    (exports / stuck / "job.json").write_bytes(orjson.dumps({**state, "id": stuck, "status": "running", "finished": None, "output": []}))
    audited: list[tuple[str, str, int, object]] = []
    with TestClient(_app(env.project, audited)) as again:
        r = again.get(manifest["_status"], headers=ASYNC)
        assert r.status_code == 200
        assert r.json()["output"] == manifest["output"]
        got = again.get(manifest["output"][0]["url"], headers=ASYNC)
        assert orjson.loads(got.content)["id"] == GROUP_ID
        assert audited == [("export", "Group", 1, "alice")]
        assert _outcome(again.get(f"http://testserver/$export-status/{stuck}", headers=ASYNC), 500) == (
            f"export job {stuck}: the server stopped while this export was queued or running; start a new export"
        )
        assert again.delete(f"http://testserver/$export-status/{stuck}", headers=ASYNC).status_code == 202
    assert not (exports / stuck).exists()


def test_another_server_process_polls_downloads_and_cancels_a_job(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """`medlake serve --workers N`: each process has its own worker; the lake is the registry."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(_app(env.project, [])) as other:
        done = _export(env, "/$export", _type="Group")
        r = other.get(done["_status"], headers=ASYNC)
        assert r.status_code == 200 and r.json()["output"] == done["output"]
        assert orjson.loads(other.get(done["output"][0]["url"], headers=ASYNC).content)["id"] == GROUP_ID
        # a job running in this process, cancelled through the other one
        written, go = threading.Event(), threading.Event()
        plain = env.jobs.files.write

        def held(job_id: str, name: str, data: bytes) -> None:
            plain(job_id, name, data)
            written.set()
            go.wait(30)

        monkeypatch.setattr(env.jobs.files, "write", held)
        bulk = env.app.state.bulk
        saved = bulk.settings
        bulk.settings = replace(saved, max_resources_per_file=10)
        try:
            status_url = _kickoff(env, "/$export", _type="Observation")
            assert written.wait(30)
            r = other.get(status_url, headers=ASYNC)
            assert r.status_code == 202 and r.headers["X-Progress"] == "exporting Observation (type 1 of 1), 0 resources written"
            assert other.delete(status_url, headers=ASYNC).status_code == 202
        finally:
            go.set()
            bulk.settings = saved
        assert env.jobs.wait_idle(60)
        job = status_url.rsplit("/", 1)[-1]
        assert not (Path(env.project.lake_uri()) / TENANT / "_meta" / "exports" / job).exists()
        assert env.client.get(status_url, headers=ASYNC).status_code == 404


# ------------------------------------------------------------------- with real bearer tokens


def test_bearer_tokens_scope_the_export_and_bind_the_job_to_its_subject(env: Env) -> None:
    import time
    import warnings

    import jwt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from medlake.serve.app import create_app, token_auth
    from medlake.serve.auth import AuthConfig

    secret = "bulk-export-test-secret-0123456789abcdef"
    config = AuthConfig(audience="https://fhir.test", algorithms=("HS256",), secret=secret)

    def bearer(sub: str, scope: str, patient: str | None = None) -> dict[str, str]:
        claims = {"sub": sub, "aud": "https://fhir.test", "exp": int(time.time()) + 3600, "tenant": TENANT, "scope": scope,
                  **({"patient": patient} if patient else {})}
        return {**ASYNC, "Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

    audited: list[tuple[str, str, int, object]] = []
    app = create_app(env.project, TENANT, auth=token_auth(config, TENANT),
                     audit=lambda req, who, action, rtype, n: audited.append((action, rtype, n, getattr(who, "subject", who))))
    with TestClient(app) as client:
        first = _types(env)[0]
        narrow = client.get("/$export", headers=bearer("svc-a", "system/Patient.rs"))
        assert narrow.status_code == 403
        assert narrow.json()["issue"][0]["details"]["text"] == (
            f"the token's scopes do not allow `search` on `{first}`; ask for a scope such as `system/{first}.rs`"
        )
        kick = client.get("/$export?_type=Patient", headers=bearer("svc-a", "system/Patient.rs"))
        assert kick.status_code == 202
        assert app.state.bulk.jobs.wait_idle(60)
        status = kick.headers["Content-Location"]
        assert _outcome(client.get(status, headers=bearer("svc-b", "system/*.rs")), 403).startswith("export job `")
        manifest = client.get(status, headers=bearer("svc-a", "system/Patient.rs")).json()
        assert client.get(manifest["output"][0]["url"], headers=bearer("svc-a", "system/Patient.rs")).status_code == 200
        assert audited == [("export", "Patient", len(_expected(env, "Patient")), "svc-a")]
        # a patient-context token: its own compartment only, whatever the level
        pid = env.members[1]
        token = bearer("app-c", "patient/*.rs", pid)
        kick = client.get("/Patient/$export", headers=token)
        assert kick.status_code == 202 and app.state.bulk.jobs.wait_idle(60)
        manifest = client.get(kick.headers["Content-Location"], headers=token).json()
        for out in manifest["output"]:
            lines = client.get(out["url"], headers=token).content.splitlines()
            ids = [orjson.loads(line)["id"] for line in lines]
            assert ids == ([pid] if out["type"] == "Patient" else _expected(env, out["type"], "patient_id = ?", [pid]))


# ------------------------------------------------------------------------------ bad requests

BAD: list[tuple[str, str, dict[str, str], int, str]] = [
    ("no Prefer", "/$export", {"Accept": FHIR_JSON}, 400,
     "$export runs asynchronously: send the header `Prefer: respond-async`, then poll the `Content-Location` URL of the 202 answer"),
    ("Accept not JSON", "/Patient/$export", {"Prefer": "respond-async", "Accept": "text/html"}, 406,
     "$export answers its kick-off in `application/fhir+json`; send `Accept: application/fhir+json`"),
    ("output format", "/$export?_outputFormat=text/csv", {}, 400,
     "$export parameter `_outputFormat`: `text/csv` is not supported; use application/fhir+ndjson, application/ndjson, ndjson"),
    ("empty type", "/$export?_type=Patient,", {}, 400,
     "$export parameter `_type`: has an empty type name; list resource types separated by commas, e.g. `_type=Patient,Observation`"),
    ("since not an instant", "/$export?_since=2024-01-31", {}, 400,
     "$export parameter `_since`: `2024-01-31` is not a FHIR instant; write a date, a time and a zone, e.g. `2024-01-31T00:00:00Z`"),
    ("since no such day", "/$export?_since=2024-02-30T00:00:00Z", {}, 400,
     "$export parameter `_since`: `2024-02-30T00:00:00Z` is not a valid instant (no such date or time)"),
    ("since twice", "/$export?_since=2024-01-01T00:00:00Z&_since=2024-01-02T00:00:00Z", {}, 400,
     "$export parameter `_since`: is given more than once; give it once"),
    ("typeFilter", "/$export?_typeFilter=Observation%3Fstatus%3Dfinal", {}, 400,
     "$export parameter `_typeFilter`: is not supported by this server; the supported parameters are _outputFormat, _since, _type"),
    ("unknown group", "/Group/nope/$export", {}, 404,
     "`Group/nope` is not in this server; search `GET /Group` to find ids"),
    ("unknown job", "/$export-status/0123456789abcdef0123456789abcdef", {}, 404,
     "export job `0123456789abcdef0123456789abcdef` is not on this server: it never was, was cancelled, or expired 24 h after it finished; kick off a new export"),
    ("malformed job", "/$export-status/not-a-job", {}, 404,
     "export job `not-a-job` is not on this server: it never was, was cancelled, or expired 24 h after it finished; kick off a new export"),
    ("unknown file", "/$export-file/0123456789abcdef0123456789abcdef/Patient.1.ndjson", {}, 404,
     "`/$export-file/0123456789abcdef0123456789abcdef/Patient.1.ndjson` is not a file of a finished export here; take the file URLs from the job's manifest"),
]


@pytest.mark.parametrize(("url", "headers", "status", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requests_answer_an_operation_outcome(env: Env, url: str, headers: dict[str, str], status: int, message: str) -> None:
    sent = {"Authorization": "Bearer alice", **(headers or {"Prefer": "respond-async"})}
    assert _outcome(env.client.get(url, headers=sent), status) == message


def test_unknown_type_names_the_served_types(env: Env) -> None:
    served = ", ".join(_types(env))
    assert _outcome(env.client.get("/$export?_type=Patient,Widget", headers=ASYNC), 400) == (
        f"$export parameter `_type`: `Widget` is not a resource type served here; the types are: {served}"
    )
    assert _outcome(env.client.get("/$export?_type=<b>", headers=ASYNC), 400) == (
        f"$export parameter `_type`: a value that is not a resource type served here; the types are: {served}"
    )


def test_bad_post_bodies(env: Env) -> None:
    post = {**ASYNC, "Content-Type": FHIR_JSON}
    assert _outcome(env.client.post("/$export", content=b"{nope", headers=post), 400) == (
        "the POST $export body is not JSON; send a FHIR `Parameters` resource"
    )
    assert _outcome(env.client.post("/$export", content=b'{"resourceType":"Patient"}', headers=post), 400) == (
        "a POST $export needs a FHIR `Parameters` resource as its body (or no body)"
    )
    body = b'{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/1"}}]}'
    assert _outcome(env.client.post("/$export", content=body, headers=post), 400) == (
        "Parameters.parameter[0] is not a name with one string value (valueString, valueCode or valueInstant)"
    )


def test_a_lake_without_groups_answers_404_for_group_export(client: Any) -> None:
    r = client.get("/Group/any/$export", headers={"Prefer": "respond-async"})
    assert _outcome(r, 404) == (
        "`Group/any` is not in this server: it has no Group resources; land Group resources whose members reference "
        "Patients to export by group"
    )
