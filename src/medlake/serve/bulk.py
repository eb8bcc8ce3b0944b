"""FHIR Bulk Data `$export` (STU2 async pattern) over the tenant's silver layer.

    GET|POST /$export                    system level: every served type (or `_type`)
    GET|POST /Patient/$export            every resource in some patient's compartment
    GET|POST /Group/{id}/$export         the compartments of a Group's patient members
    GET      /$export-status/{job}       202 + X-Progress while running, 200 + manifest when done
    DELETE   /$export-status/{job}       cancel the job, or release its files (202)
    GET      /$export-file/{job}/{file}  one NDJSON file (application/fhir+ndjson)

A Group is a silver `Group` resource (landed from any FHIR source like any other resource);
its members are the `member[].entity` references to Patients that are not `inactive`. Jobs run
in the background (`bulk_jobs.py`). Authorization: a kick-off asks the `auth` hook for
`search` on every type it exports (a patient-context token limits each type to its patient's
compartment); polls and downloads ask again and must come from the principal that started the
job. The audit sink is called when PHI leaves: at each file download, with its type and count.
"""

import hashlib
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from medlake.lake.paths import TenantLake
from medlake.serve.bulk_jobs import BulkSettings, ExportJob, ExportJobs, Level
from medlake.serve.bulk_params import NDJSON, check_headers, export_request, parameters_items
from medlake.serve.outcome import FHIR_JSON, ApiError, not_found, outcome

STATUS_PATH = "/$export-status"
FILE_PATH = "/$export-file"
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def owner_of(principal: object) -> str:
    """A stable hash of who is calling: tenant, subject and client of a token's principal."""
    if principal is None:
        ident = "anonymous"
    elif hasattr(principal, "subject"):
        parts = (getattr(principal, "tenant", None), getattr(principal, "subject", None), getattr(principal, "client_id", None))
        ident = "|".join(str(p) for p in parts)
    else:
        ident = repr(principal)
    return hashlib.sha256(ident.encode()).hexdigest()


def group_members(group: dict[str, Any]) -> list[str]:
    """The ids of a Group's active Patient members, in member order."""
    ids: list[str] = []
    for member in group.get("member") or []:
        ref = (member.get("entity") or {}).get("reference") if isinstance(member, dict) else None
        if isinstance(ref, str) and ref.startswith("Patient/") and not member.get("inactive"):
            pid = ref.removeprefix("Patient/")
            if pid not in ids:
                ids.append(pid)
    return ids


class BulkExports:
    """The export interactions, as plain methods of (request, path values) → response."""

    def __init__(self, api: Any, lake: TenantLake, settings: BulkSettings | None = None) -> None:
        self.api = api
        self.jobs = ExportJobs(api.store, lake, settings)

    @property
    def settings(self) -> BulkSettings:
        return self.jobs.settings

    @settings.setter
    def settings(self, value: BulkSettings) -> None:
        self.jobs.settings = value

    # ------------------------------------------------------------------ kick-off

    def kickoff(self, request: Any, level: Level, items: list[tuple[str, str]], group: str | None = None) -> Any:
        check_headers(request.headers)
        served = self.api.store.types
        if level == "group" and "Group" not in served:
            raise ApiError(404, "not-found", f"`Group/{(group or '')[:64]}` is not in this server: it has no Group resources; land Group resources whose members reference Patients to export by group")
        asked = export_request(items, served)
        principal, bounds = None, {}
        for rtype in asked.types or ("Patient",):
            access = self.api.auth(request, rtype, "search")
            principal = access.principal
            if access.patient is not None:
                bounds[rtype] = access.patient
        members = self._members(request, group) if level == "group" and group is not None else None
        if self.jobs.active() >= self.settings.max_active_jobs:
            raise ApiError(429, "throttled", f"{self.settings.max_active_jobs} exports are queued or running; wait for one to finish (or cancel one) and kick off again")
        job = ExportJob(
            id=uuid.uuid4().hex, owner=owner_of(principal), level=level, request=str(request.url),
            transaction_time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            types=list(asked.types), since=asked.since.isoformat() if asked.since else None,
            group=group, members=members, bounds=bounds, created=time.time(),
        )
        self.jobs.submit(job)
        url = f"{_base(request)}{STATUS_PATH}/{job.id}"
        body = outcome("informational", f"export job {job.id} accepted; poll {url}", severity="information")
        return _response(body, 202, {"Content-Location": url})

    def _members(self, request: Any, group: str) -> list[str]:
        access = self.api.auth(request, "Group", "read")
        found = self.api.store.read("Group", group, access.patient)
        if found is None:
            raise not_found("Group", group)
        return group_members(found)

    # ------------------------------------------------------------ status, cancel, files

    def _job(self, request: Any, job_id: str, types: list[str] | None = None) -> tuple[ExportJob, object]:
        """The job, once the caller is shown to be the principal that started it."""
        job = self.jobs.get(job_id) if _JOB_ID.match(job_id) else None
        if job is None:
            raise ApiError(404, "not-found", f"export job `{job_id[:40]}` is not on this server: it never was, was cancelled, or expired {self.settings.ttl_seconds / 3600:g} h after it finished; kick off a new export")
        principal = None
        for rtype in types if types is not None else job.types or ["Patient"]:
            principal = self.api.auth(request, rtype, "search").principal
        if owner_of(principal) != job.owner:
            raise ApiError(403, "forbidden", f"export job `{job_id}` was started by another client; only the client that started it may poll, cancel or download it")
        return job, principal

    def status(self, request: Any, job_id: str) -> Any:
        job, _ = self._job(request, job_id)
        if job.status in ("accepted", "running"):
            from starlette.responses import Response

            return Response(status_code=202, headers={"X-Progress": job.progress, "Retry-After": "1"})
        if job.status == "failed":
            return _response(outcome("exception", f"export job {job.id}: {job.error}"), 500)
        base = _base(request)
        manifest = {
            "transactionTime": job.transaction_time,
            "request": job.request,
            "requiresAccessToken": True,
            "output": [{"type": o["type"], "url": f"{base}{FILE_PATH}/{job.id}/{o['file']}", "count": o["count"]} for o in job.output],
            "error": [],
        }
        expires = datetime.fromtimestamp((job.finished or time.time()) + self.settings.ttl_seconds, UTC)
        return _response(manifest, 200, {"Expires": expires.strftime("%a, %d %b %Y %H:%M:%S GMT")}, "application/json")

    def cancel(self, request: Any, job_id: str) -> Any:
        job, _ = self._job(request, job_id)
        self.jobs.cancel(job.id)
        done = "its files were removed" if job.status in ("completed", "failed") else "it was cancelled"
        return _response(outcome("informational", f"export job {job.id}: {done}", severity="information"), 202)

    def download(self, request: Any, job_id: str, name: str) -> Any:
        job = self.jobs.get(job_id) if _JOB_ID.match(job_id) else None
        entry = next((o for o in job.output if o["file"] == name), None) if job and job.status == "completed" else None
        if job is None or entry is None:
            raise ApiError(404, "not-found", f"`{FILE_PATH}/{job_id[:40]}/{name[:60]}` is not a file of a finished export here; take the file URLs from the job's manifest")
        job, principal = self._job(request, job_id, [entry["type"]])
        # audited before any byte leaves; `_deliver` counts per type, so stand-ins of the type do
        self.api._deliver(request, principal, "export", [{"resourceType": entry["type"]}] * entry["count"])
        path = self.jobs.files.local_path(job.id, name)
        if path is not None:
            from starlette.responses import FileResponse

            return FileResponse(path, media_type=NDJSON)
        from starlette.responses import Response

        return Response(self.jobs.files.read(job.id, name), media_type=NDJSON)


def _base(request: Any) -> str:
    return str(request.base_url).rstrip("/")


def _response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None, media: str = FHIR_JSON) -> Any:
    from starlette.responses import Response

    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)


def add_bulk_routes(app: Any, api: Any, lake: TenantLake, settings: BulkSettings | None = None) -> BulkExports:
    """Register the `$export` routes on `app` (before the generic `/{type}` routes, which would
    take `/$export` for a type); the `BulkExports` is also kept as `app.state.bulk`."""
    # `Request` is evaluated here, FastAPI reads the annotations (so this module has no
    # `from __future__ import annotations`)
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request

    bulk = BulkExports(api, lake, settings)
    app.state.bulk = bulk

    async def items_of(request: Request) -> list[tuple[str, str]]:
        if request.method == "GET":
            return list(request.query_params.multi_items())
        raw = await request.body()
        if not raw.strip():
            return list(request.query_params.multi_items())
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError(400, "invalid", "the POST $export body is not JSON; send a FHIR `Parameters` resource") from None
        return list(request.query_params.multi_items()) + parameters_items(body)

    async def system(request: Request) -> Any:
        return await run_in_threadpool(bulk.kickoff, request, "system", await items_of(request))

    async def patients(request: Request) -> Any:
        return await run_in_threadpool(bulk.kickoff, request, "patient", await items_of(request))

    async def group(request: Request, gid: str) -> Any:
        return await run_in_threadpool(bulk.kickoff, request, "group", await items_of(request), gid)

    def status(request: Request, job: str) -> Any:
        return bulk.status(request, job)

    def cancel(request: Request, job: str) -> Any:
        return bulk.cancel(request, job)

    def download(request: Request, job: str, name: str) -> Any:
        return bulk.download(request, job, name)

    for path, handler, methods in (
        ("/$export", system, ["GET", "POST"]), ("/Patient/$export", patients, ["GET", "POST"]),
        ("/Group/{gid}/$export", group, ["GET", "POST"]), (STATUS_PATH + "/{job}", status, ["GET"]),
        (STATUS_PATH + "/{job}", cancel, ["DELETE"]), (FILE_PATH + "/{job}/{name}", download, ["GET"]),
    ):
        app.add_api_route(path, handler, methods=methods)
    return bulk
