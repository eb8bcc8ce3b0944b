"""API errors and the OperationOutcome resources that carry them."""

from __future__ import annotations

from typing import Any

FHIR_JSON = "application/fhir+json"


class ApiError(Exception):
    """A request the API refuses: HTTP `status`, FHIR issue `code` and a message that says what
    was wrong and how to fix it. Never put PHI (query values) in `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(resource_type: str, rid: str, version: str | None = None) -> ApiError:
    what = f"{resource_type}/{rid}" + (f"/_history/{version}" if version else "")
    return ApiError(404, "not-found", f"`{what}` is not in this server; search `GET /{resource_type}` to find ids")


def outcome(code: str, message: str, severity: str = "error") -> dict[str, Any]:
    """An OperationOutcome with one issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }
