"""`$viewdefinition-run` (SQL-on-FHIR v2): run a ViewDefinition now and return its rows.

    POST [base]/ViewDefinition/$viewdefinition-run           a FHIR Parameters body
    GET  [base]/ViewDefinition/$viewdefinition-run?viewReference=patient&_format=csv
    GET  [base]/ViewDefinition/patient/$viewdefinition-run?_limit=10
    (also [base]/$viewdefinition-run, the R4 system-level form)

Parameters: `viewResource` (an inline ViewDefinition) or `viewReference` (a shipped or user view
by name: `patient`, `ViewDefinition/patient` or its canonical URL); `_format` json (an array of
row objects, the default), ndjson or csv; `patient` (an id or `Patient/<id>`) keeps the
resources of one patient's compartment; `_limit` caps the rows; `resource` (repeating) runs the
view over these resources instead of the lake.

Inline resources go through the Python evaluator; the lake is read with the compiled SQL over
the serving copy of `silver.<type>` (a view the compiler cannot translate falls back to the
evaluator). The caller needs `search` on the view's resource type; a patient-context token
sees only its patient's rows. Lake runs are audited (action `viewdefinition-run`, the view's
resource type, the number of rows).
"""
# no `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime

import csv
import io
from typing import TYPE_CHECKING, Any

import orjson

from medlake.serve.outcome import ApiError
from medlake.silver.schema import table_name
from medlake.silver.views.engine.errors import ViewCompileError, ViewDefinitionError

if TYPE_CHECKING:
    from medlake.lake.paths import TenantLake
    from medlake.silver.views.engine.viewdef import ViewDefinition

FORMATS = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv"}
_ALIASES = {"application/json": "json", "application/x-ndjson": "ndjson", "application/ndjson": "ndjson",
            "text/csv": "csv", "application/fhir+json": "json"}  # fmt: skip
_KNOWN = {"viewResource", "viewReference", "_format", "patient", "_limit", "resource"}
_UNSUPPORTED = {"group", "_since", "source", "_count", "_page", "header"}
_PATIENT_REFS = ("subject", "patient", "beneficiary", "individual")
MAX_INLINE = 10_000


class RunRequest:
    """The parameters of one call, read from a Parameters body or a query string."""

    def __init__(self) -> None:
        self.view: dict[str, Any] | None = None
        self.reference: str | None = None
        self.format = "json"
        self.patient: str | None = None
        self.limit: int | None = None
        self.resources: list[dict[str, Any]] | None = None


def parse_parameters(body: Any) -> RunRequest:
    """A `RunRequest` from a FHIR Parameters resource; `ApiError` 400 naming the bad parameter."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise _invalid("the body must be a FHIR Parameters resource (`\"resourceType\": \"Parameters\"`)")
    params = body.get("parameter", [])
    if not isinstance(params, list):
        raise _invalid("`parameter` must be a list")
    req = RunRequest()
    for i, p in enumerate(params):
        name = p.get("name") if isinstance(p, dict) else None
        if not isinstance(name, str):
            raise _invalid(f"parameter[{i}] has no `name`")
        _check_name(name)
        if name in ("viewResource", "resource"):
            res = p.get("resource")
            if not isinstance(res, dict):
                raise _invalid(f"parameter `{name}` needs a `resource` (the inline resource)")
            if name == "viewResource":
                _once(req.view is None, name)
                req.view = res
            else:
                req.resources = [*(req.resources or []), res]
            continue
        _set(req, name, _value(p, name))
    return req


def parse_query(items: list[tuple[str, str]]) -> RunRequest:
    """A `RunRequest` from query parameters (GET): viewReference, _format, patient, _limit."""
    req = RunRequest()
    for name, value in items:
        _check_name(name)
        if name in ("viewResource", "resource"):
            raise _invalid(f"`{name}` cannot be given in a query string; POST a Parameters body")
        _set(req, name, value)
    return req


def _check_name(name: str) -> None:
    if name in _UNSUPPORTED:
        raise ApiError(400, "not-supported", f"parameter `{name}` is not supported here; supported: {', '.join(sorted(_KNOWN))}")
    if name not in _KNOWN:
        raise _invalid(f"unknown parameter `{name[:40]}`; supported: {', '.join(sorted(_KNOWN))}")


def _value(p: dict[str, Any], name: str) -> str:
    for key, value in p.items():
        if key == "valueReference" and isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
        if key.startswith("value") and isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    raise _invalid(f"parameter `{name}` needs a value (valueString, valueCode, valueReference, valueInteger …)")


def _set(req: RunRequest, name: str, value: str) -> None:
    if name == "viewReference":
        _once(req.reference is None, name)
        req.reference = value
    elif name == "_format":
        fmt = _ALIASES.get(value, value)
        if fmt not in FORMATS:
            raise _invalid(f"`_format` `{value[:40]}` is not supported; use one of: {', '.join(FORMATS)}")
        req.format = fmt
    elif name == "patient":
        req.patient = value.removeprefix("Patient/")
    elif name == "_limit":
        if not value.isdigit() or int(value) < 1:
            raise _invalid(f"`_limit` must be a whole number of at least 1, got `{value[:20]}`")
        req.limit = int(value)


def _once(first: bool, name: str) -> None:
    if not first:
        raise _invalid(f"parameter `{name}` is given more than once")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", f"$viewdefinition-run: {message}")


# -- which view --------------------------------------------------------------------------------


def resolve_view(req: RunRequest, lake: "TenantLake", instance: str | None = None) -> dict[str, Any]:
    """The ViewDefinition JSON the request names (inline, by reference, or the instance in the URL)."""
    given = [x for x in (req.view, req.reference, instance) if x is not None]
    if len(given) != 1:
        raise _invalid("give exactly one ViewDefinition: `viewResource` (inline), `viewReference` (by name), "
                       "or its name in the URL (`/ViewDefinition/<name>/$viewdefinition-run`)")  # fmt: skip
    if req.view is not None:
        return req.view
    return lookup(str(req.reference or instance), lake)


def lookup(reference: str, lake: "TenantLake") -> dict[str, Any]:
    """A shipped or user view by name, `ViewDefinition/<name>` or a URL ending in `/<name>`."""
    from medlake.silver.views import registry
    from medlake.silver.views.materialize import stored_definitions

    name = reference.rstrip("/").rsplit("/", 1)[-1].split("|", 1)[0]
    if name in registry.SHIPPED:
        return registry.shipped_view(name)
    stored = stored_definitions(lake)
    if name in stored:
        return stored[name]
    known = ", ".join([*registry.SHIPPED, *sorted(n for n in stored if n not in registry.SHIPPED)])
    raise ApiError(404, "not-found", f"ViewDefinition `{name[:80]}` is not known here; the views are: {known}")


# -- running -----------------------------------------------------------------------------------


def run_inline(vd: "ViewDefinition", resources: list[dict[str, Any]], patient: str | None) -> list[dict[str, Any]]:
    """The rows of `vd` over resources sent in the request (the Python evaluator)."""
    from medlake.silver.views.engine import run_view

    if len(resources) > MAX_INLINE:
        raise _invalid(f"at most {MAX_INLINE} inline resources per call; got {len(resources)}")
    chosen = [r for r in resources if patient is None or _about(r, patient)]
    return run_view(vd, chosen)


def _about(resource: dict[str, Any], patient: str) -> bool:
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient
    for name in _PATIENT_REFS:
        ref = resource.get(name)
        if isinstance(ref, dict) and ref.get("reference") == f"Patient/{patient}":
            return True
    return False


def run_lake(cur: Any, vd: "ViewDefinition", types: list[str], patient: str | None, limit: int | None) -> list[dict[str, Any]]:
    """The rows of `vd` over the serving copy's `silver.<type>` (compiled SQL; the evaluator
    when the compiler cannot translate the view)."""
    from medlake.silver.views.engine import run_view
    from medlake.silver.views.engine.compile_sql import compile_view

    values: list[Any] = []
    if vd.resource not in types:
        source = "(SELECT CAST(NULL AS VARCHAR) AS resource WHERE false)"
    elif patient is None:
        source = f"silver.{table_name(vd.resource)}"
    else:
        source = (f"(SELECT resource FROM silver.{table_name(vd.resource)} "
                  "WHERE patient_id = ? OR (resource_type = 'Patient' AND id = ?))")  # fmt: skip
        values = [patient, patient]
    try:
        sql = compile_view(vd, source=source, typed=False)
    except ViewCompileError:
        fetched = cur.execute(f"SELECT resource FROM {source} AS s", values).fetchall()
        rows = run_view(vd, [orjson.loads(r[0]) for r in fetched])
        return rows[:limit] if limit is not None else rows
    if limit is not None:
        sql = f"SELECT * FROM ({sql}) AS v LIMIT {int(limit)}"
    result = cur.execute(sql, values)
    names = [d[0] for d in result.description]
    return [
        {n: (None if v is None else orjson.loads(v)) for n, v in zip(names, row, strict=True)}
        for row in result.fetchall()
    ]


def render(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> bytes:
    """The rows as JSON (an array of objects), NDJSON (one object a line) or CSV (a header line;
    arrays and objects as JSON text; booleans `true`/`false`; empty for null)."""
    if fmt == "json":
        return orjson.dumps(rows)
    if fmt == "ndjson":
        return b"".join(orjson.dumps(r) + b"\n" for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode("utf-8")
    return str(value)


# -- the route ---------------------------------------------------------------------------------


def execute(api: Any, lake: "TenantLake", request: Any, req: RunRequest, instance: str | None = None) -> tuple[bytes, str]:
    """Run one call: (body, media type). Bad views are 400s carrying the engine's message."""
    from medlake.silver.views.engine.viewdef import parse_view

    raw = resolve_view(req, lake, instance)
    try:
        vd = parse_view(raw)
    except ViewDefinitionError as e:
        raise _invalid(f"the ViewDefinition is not valid: {e}") from None
    access = api.auth(request, vd.resource, "search")
    patient = req.patient if access.patient is None else access.patient  # a patient-context token: its patient only
    outside = access.patient is not None and req.patient not in (None, access.patient)  # another patient: no rows
    try:
        if req.resources is not None:
            rows = [] if outside else run_inline(vd, req.resources, patient)
            rows = rows[: req.limit] if req.limit is not None else rows
        elif outside:
            rows = []
            api.audit(request, access.principal, "viewdefinition-run", vd.resource, 0)
        else:
            with api.store.cursor() as cur:
                rows = run_lake(cur, vd, api.store.types, patient, req.limit)
            api.audit(request, access.principal, "viewdefinition-run", vd.resource, len(rows))
    except ViewDefinitionError as e:
        raise _invalid(f"the view failed while running: {e}") from None
    except Exception as e:  # a DuckDB error raised by the compiled SQL's checks
        text = str(e)
        if "medlake:" not in text:
            raise
        raise _invalid(f"the view failed while running: {text.split('medlake:', 1)[1].strip()}") from None
    return render(rows, vd.column_names(), req.format), FORMATS[req.format]


def add_viewrun_routes(app: Any, api: Any, lake: "TenantLake") -> None:
    """Register `$viewdefinition-run` (type, instance and system level; GET and POST). Call it
    before the generic `/{rtype}/{rid}` routes, which would otherwise take these paths."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request  # evaluated here: FastAPI reads the annotations
    from starlette.responses import Response

    async def post(request: Request) -> Any:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as e:
            raise _invalid(f"the body is not JSON: {e}") from None
        req = parse_parameters(body)
        for name, value in request.query_params.multi_items():  # `?_format=csv` on a POST
            _check_name(name)
            _set(req, name, value)
        return await run_in_threadpool(_respond, request, req, request.path_params.get("name"))

    def get(request: Request) -> Any:
        req = parse_query(list(request.query_params.multi_items()))
        return _respond(request, req, request.path_params.get("name"))

    def _respond(request: Request, req: RunRequest, instance: str | None) -> Any:
        body, media = execute(api, lake, request, req, instance)
        return Response(body, media_type=media)

    for path in ("/ViewDefinition/$viewdefinition-run", "/ViewDefinition/{name}/$viewdefinition-run", "/$viewdefinition-run"):
        app.add_api_route(path, post, methods=["POST"])
        app.add_api_route(path, get, methods=["GET"])
