"""The kick-off request of a Bulk Data `$export`: headers and parameters, checked.

`export_request(headers, items, served)` turns the `Prefer` and `Accept` headers and the
kick-off parameters (the query string of a GET, or the `Parameters` body of a POST, as
(name, value) pairs) into an `ExportRequest`, or raises an `ApiError` (400 or 406) whose
message names the header or parameter, what was wrong and what is allowed. Messages quote
parameter names, types and instants only, never anything else the client sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from medlake.serve.outcome import ApiError

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = (NDJSON, "application/ndjson", "ndjson")
SUPPORTED = ("_outputFormat", "_since", "_type")
_ACCEPTED = ("application/fhir+json", "application/json", "application/*", "*/*")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_TYPE = re.compile(r"^[A-Z][A-Za-z]{0,63}$")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the resource types (in order) and the lower bound on `meta.lastUpdated`."""

    types: tuple[str, ...]
    since: datetime | None


def bad(param: str, why: str) -> ApiError:
    return ApiError(400, "invalid", f"$export parameter `{param}`: {why}")


def check_headers(headers: Mapping[str, str]) -> None:
    """`Prefer: respond-async` is required; `Accept`, when sent, must allow FHIR JSON."""
    prefer = [p.split("=")[0].strip().lower() for p in re.split(r"[,;]", headers.get("prefer", ""))]
    if "respond-async" not in prefer:
        raise ApiError(
            400, "invalid",
            "$export runs asynchronously: send the header `Prefer: respond-async`, then poll the "
            "`Content-Location` URL of the 202 answer",
        )
    accept = headers.get("accept")
    if accept and not any(m.split(";")[0].strip().lower() in _ACCEPTED for m in accept.split(",")):
        raise ApiError(
            406, "not-supported",
            "$export answers its kick-off in `application/fhir+json`; send `Accept: application/fhir+json`",
        )


def export_request(items: list[tuple[str, str]], served: list[str]) -> ExportRequest:
    """The checked parameters of one kick-off; `served` are the types the server has."""
    seen: dict[str, list[str]] = {}
    for name, value in items:
        if name not in SUPPORTED:
            raise bad(name[:40], f"is not supported by this server; the supported parameters are {', '.join(SUPPORTED)}")
        seen.setdefault(name, []).append(value)
    for name in ("_outputFormat", "_since"):
        if len(seen.get(name, [])) > 1:
            raise bad(name, "is given more than once; give it once")
    fmt = seen.get("_outputFormat", [NDJSON])[0]
    if fmt not in OUTPUT_FORMATS:
        raise bad("_outputFormat", f"`{fmt[:40]}` is not supported; use {', '.join(OUTPUT_FORMATS)}")
    since = seen.get("_since")
    return ExportRequest(_types(seen.get("_type"), served), _instant(since[0]) if since else None)


def _types(values: list[str] | None, served: list[str]) -> tuple[str, ...]:
    if values is None:
        return tuple(served)
    wanted: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                raise bad("_type", "has an empty type name; list resource types separated by commas, e.g. `_type=Patient,Observation`")
            if name not in served:
                shown = f"`{name[:64]}`" if _TYPE.match(name[:64]) else "a value that"
                raise bad("_type", f"{shown} is not a resource type served here; the types are: {', '.join(served) or 'none'}")
            if name not in wanted:
                wanted.append(name)
    return tuple(wanted)


def _instant(value: str) -> datetime:
    text = value.strip()
    if " " in text and text.count(" ") == 1:
        text = text.replace(" ", "+")  # an unencoded `+05:00` in a query string arrives as a space
    if not _INSTANT.match(text):
        raise bad("_since", f"`{value[:40]}` is not a FHIR instant; write a date, a time and a zone, e.g. `2024-01-31T00:00:00Z`")
    frac = re.search(r"\.(\d+)", text)
    if frac and len(frac.group(1)) > 6:  # Python reads at most microseconds
        text = text.replace(frac.group(0), "." + frac.group(1)[:6])
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise bad("_since", f"`{value[:40]}` is not a valid instant (no such date or time)") from None


def parameters_items(body: Any) -> list[tuple[str, str]]:
    """The (name, value) pairs of a FHIR `Parameters` resource (the POST kick-off body)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise ApiError(400, "invalid", "a POST $export needs a FHIR `Parameters` resource as its body (or no body)")
    items: list[tuple[str, str]] = []
    for k, param in enumerate(body.get("parameter") or []):
        name = param.get("name") if isinstance(param, dict) else None
        values = [v for key, v in param.items() if key.startswith("value")] if isinstance(param, dict) else []
        if not isinstance(name, str) or len(values) != 1 or not isinstance(values[0], str):
            raise ApiError(
                400, "invalid",
                f"Parameters.parameter[{k}] is not a name with one string value (valueString, valueCode or valueInstant)",
            )
        items.append((name, values[0]))
    return items
