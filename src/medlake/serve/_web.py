"""The one gateway to the optional web stack (FastAPI, uvicorn): `pip install 'medlake[serve]'`."""

from __future__ import annotations

from types import ModuleType

from medlake.errors import ConfigError

_HINT = "the FHIR API needs the `serve` extra: run `pip install 'medlake[serve]'`"


def fastapi() -> ModuleType:
    """The `fastapi` module, or a ConfigError that says how to install it."""
    try:
        import fastapi as module
    except ImportError as exc:  # pragma: no cover - the extra is installed in development
        raise ConfigError(f"FastAPI is not installed; {_HINT}", missing="fastapi") from exc
    return module


def uvicorn() -> ModuleType:
    """The `uvicorn` module, or a ConfigError that says how to install it."""
    try:
        import uvicorn as module
    except ImportError as exc:  # pragma: no cover
        raise ConfigError(f"uvicorn is not installed; {_HINT}", missing="uvicorn") from exc
    return module
