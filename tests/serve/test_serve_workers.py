"""`medlake serve --workers N`: uvicorn gets the factory import string, each worker builds its
app from the environment the command sets, and a missing secret fails before any worker starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from medlake.errors import ConfigError

SECRET = "w" * 40


class _Uvicorn:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def run(self, app: Any, **kwargs: Any) -> None:
        self.calls.append((app, kwargs))


@pytest.fixture()
def uvicorn(monkeypatch: pytest.MonkeyPatch) -> _Uvicorn:
    from medlake.serve import _web

    fake = _Uvicorn()
    monkeypatch.setattr(_web, "uvicorn", lambda: fake)
    for name in ("MEDLAKE_SERVE_CONFIG", "MEDLAKE_SERVE_TENANT", "MEDLAKE_SERVE_NO_AUTH"):
        monkeypatch.setenv(name, "")  # recorded, so what the command sets is undone after the test
        monkeypatch.delenv(name)
    return fake


def _project(tmp_path: Path, serve: str = "") -> Path:
    path = tmp_path / "medlake.yaml"
    path.write_text("lake: ./lake\ntenants:\n  - name: acme\n" + serve)
    return path


def _serve(path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    from medlake.cli.main import app

    return CliRunner().invoke(app, ["serve", "-c", str(path), *args], env=env)


def test_workers_start_the_factory_with_the_environment_set(tmp_path: Path, uvicorn: _Uvicorn) -> None:
    import os

    path = _project(tmp_path)
    out = _serve(path, "--no-auth", "--workers", "2", "--port", "8097")
    assert out.exit_code == 0, out.output
    assert "workers: 2" in out.output.splitlines()
    assert uvicorn.calls == [("medlake.serve.app:app_from_environment", {
        "factory": True, "workers": 2, "host": "127.0.0.1", "port": 8097, "access_log": False, "log_level": "info",
    })]  # fmt: skip
    assert (os.environ["MEDLAKE_SERVE_CONFIG"], os.environ["MEDLAKE_SERVE_TENANT"], os.environ["MEDLAKE_SERVE_NO_AUTH"]) == (
        str(path.resolve()), "acme", "1",
    )
    from medlake.serve.app import app_from_environment

    app = app_from_environment()  # what each worker runs
    try:
        assert app.title == "medlake FHIR R4 API (acme)"
    finally:
        app.state.store.close()


def test_the_factory_refuses_to_run_outside_medlake_serve(uvicorn: _Uvicorn) -> None:
    from medlake.serve.app import app_from_environment

    with pytest.raises(ConfigError) as e:
        app_from_environment()
    assert e.value.message == (
        "MEDLAKE_SERVE_CONFIG and MEDLAKE_SERVE_TENANT not set: start the server with `medlake serve --workers N`"
    )


def test_workers_fail_once_on_a_missing_secret(tmp_path: Path, uvicorn: _Uvicorn) -> None:
    path = _project(tmp_path, "serve:\n  auth: {audience: x, algorithms: [HS256], secret_env: JWT_SECRET}\n")
    out = _serve(path, "--workers", "2", env={"JWT_SECRET": ""})
    assert out.exit_code == 2 and uvicorn.calls == []
    assert "the environment variable `JWT_SECRET` is not set" in out.output
    ok = _serve(path, "--workers", "2", env={"JWT_SECRET": SECRET})
    assert ok.exit_code == 0, ok.output
    assert [kwargs["workers"] for _, kwargs in uvicorn.calls] == [2]
